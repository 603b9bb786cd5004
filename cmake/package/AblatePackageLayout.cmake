# CPack pre-build script (AblatePackage.cmake): turns what `cmake --install` put into CPack's
# staging directory into the package's layout, before the package is made from it:
#   <bindir>/ablate                 → <libdir>/ablate/ablate, beside <libdir>/ablate/plugins
#   the wrapper (ablate-wrapper.sh.in) becomes <bindir>/ablate
# and replaces the RPATHs of the build machine (its LibTorch, its build tree) by ones relative to
# each file: LibTorch comes from the wrapper's LD_LIBRARY_PATH, libablate_sdk.so from <libdir>.
set(root "${CPACK_TEMPORARY_DIRECTORY}${CPACK_PACKAGING_INSTALL_PREFIX}")
set(bin "${root}/${CPACK_ABLATE_BINDIR}/ablate")
set(host_dir "${root}/${CPACK_ABLATE_LIBDIR}/ablate")
if(NOT EXISTS "${bin}" OR NOT IS_DIRECTORY "${host_dir}/plugins")
  message(FATAL_ERROR "ablate package: ${bin} or ${host_dir}/plugins is not in the staging directory")
endif()

file(RENAME "${bin}" "${host_dir}/ablate")
file(COPY "${CPACK_ABLATE_WRAPPER}" DESTINATION "${root}/${CPACK_ABLATE_BINDIR}"
  FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)

# The RPATHs: the binary needs <libdir> ($ORIGIN/..), the plugins <libdir> ($ORIGIN/../..), the
# SDK library nothing but LibTorch.
file(RPATH_SET FILE "${host_dir}/ablate" NEW_RPATH "$ORIGIN/..")
file(GLOB plugins "${host_dir}/plugins/*.so")
foreach(plugin IN LISTS plugins)
  file(RPATH_SET FILE "${plugin}" NEW_RPATH "$ORIGIN/../..")
endforeach()
file(GLOB sdk_libraries "${root}/${CPACK_ABLATE_LIBDIR}/libablate_sdk.so*")
foreach(library IN LISTS sdk_libraries)
  if(NOT IS_SYMLINK "${library}")
    file(RPATH_REMOVE FILE "${library}")
  endif()
endforeach()
