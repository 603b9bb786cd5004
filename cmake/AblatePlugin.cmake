# ablate_add_plugin(<target> <kind> SOURCES <files...>)
# Builds one component plugin as its own shared library, named lib<target>.so, into the plugin
# directory that the host searches. Installed with the SDK, so out-of-tree plugins use it too.
function(ablate_add_plugin target kind)
  cmake_parse_arguments(ARG "" "OUTPUT_DIRECTORY" "SOURCES" ${ARGN})
  add_library(${target} MODULE ${ARG_SOURCES})
  if(TARGET ablate::sdk)
    target_link_libraries(${target} PRIVATE ablate::sdk)
  else()
    target_link_libraries(${target} PRIVATE ablate_sdk)
  endif()
  # Only the descriptor is exported; everything else stays inside the plugin.
  set_target_properties(${target} PROPERTIES
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    PREFIX "lib")
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
  elseif(DEFINED ABLATE_PLUGIN_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ABLATE_PLUGIN_OUTPUT_DIR})
  endif()
  set_property(TARGET ${target} PROPERTY ABLATE_PLUGIN_KIND ${kind})
  # In ablate's own tree: the LibTorch headers precompiled once for every plugin
  # (cmake/AblatePrecompiledHeaders.cmake). Out-of-tree builds have no such target.
  if(TARGET ablate_plugin_pch)
    target_precompile_headers(${target} REUSE_FROM ablate_plugin_pch)
  endif()
endfunction()
