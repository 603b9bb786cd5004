# CPack: `cpack -G DEB` in the build directory makes ablate_<version>_<arch>.deb, which installs
# under /usr what `cmake --install` installs (the host, its plugins, the SDK headers and library,
# the CMake package), laid out for a system without LibTorch on its library path:
#   /usr/bin/ablate                     a shell wrapper: finds LibTorch in the PyPI torch wheel through
#                                       python3 (or $ABLATE_PYTHON), puts it on LD_LIBRARY_PATH, runs:
#   /usr/<libdir>/ablate/ablate         the real binary, beside
#   /usr/<libdir>/ablate/plugins/       the built-in plugins (the host looks beside itself first)
# package/AblatePackageLayout.cmake makes that layout in CPack's staging directory, so `cmake --install`
# keeps bin/ablate as the binary itself. LibTorch is not a Debian package, so it is no dependency:
# the wheel (torch==<the series built against>.*) must be installed with pip; tests/package/deb_test.sh.
string(REGEX MATCH "^[0-9]+\\.[0-9]+" ABLATE_TORCH_SERIES "${Torch_VERSION}")  # 2.11: the wheel to run with
set(CPACK_PACKAGE_NAME ablate)
set(CPACK_PACKAGE_VENDOR "ablate")
set(CPACK_PACKAGE_CONTACT "ablate maintainers <ablate@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "ablation studies of transformer language-model components (LibTorch)")
set(CPACK_PACKAGE_DESCRIPTION
  "Trains every run of a YAML sweep (a base model, arms that swap components, grid axes, seeds) with\n"
  "LibTorch and writes a markdown report with statistics over seeds. LibTorch comes from the PyPI\n"
  "torch wheel, which is no Debian package: pip install 'torch==${ABLATE_TORCH_SERIES}.*', then run\n"
  "ablate with ABLATE_PYTHON naming that python when it is not python3.")
string(REPLACE ";" "" CPACK_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)  # no debug information: 112 MB of the binary's 120 in a RelWithDebInfo build
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # ablate_0.1.0_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION science)
# Dependencies are listed, not computed: dpkg-shlibdeps stops at LibTorch, which no package provides.
# The libraries are those of `dpkg-shlibdeps --ignore-missing-info` on the binary, the plugins and
# libablate_sdk.so on Debian 12; tests/package/deb_test.sh checks that every library they need is
# covered. The programs: gnuplot (plots), SentencePiece's tools (BPE and .model tokenizers), python3
# (the wrapper); bible for the default corpus `kjv`.
set(CPACK_DEBIAN_PACKAGE_DEPENDS
  "libc6 (>= 2.34), libgcc-s1 (>= 3.0), libstdc++6 (>= 11), libyaml-cpp0.7 (>= 0.7.0), libfmt9 (>= 9.1.0+ds1), "
  "libboost-iostreams1.74.0 (>= 1.74.0+ds1), libboost-filesystem1.74.0 (>= 1.74.0+ds1), libxxhash0 (>= 0.8.0), "
  "gnuplot-nox | gnuplot, sentencepiece, python3")
string(REPLACE ";" "" CPACK_DEBIAN_PACKAGE_DEPENDS "${CPACK_DEBIAN_PACKAGE_DEPENDS}")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "bible-kjv")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "slurm-client")

# What package/AblatePackageLayout.cmake needs (CPACK_* variables reach CPack's scripts).
set(CPACK_ABLATE_BINDIR "${CMAKE_INSTALL_BINDIR}")
set(CPACK_ABLATE_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
file(RELATIVE_PATH ABLATE_REAL_BINARY_FROM_BINDIR "/usr/${CMAKE_INSTALL_BINDIR}" "/usr/${CMAKE_INSTALL_LIBDIR}/ablate/ablate")
set(ABLATE_REAL_BINARY "/usr/${CMAKE_INSTALL_LIBDIR}/ablate/ablate")
set(CPACK_ABLATE_WRAPPER "${CMAKE_CURRENT_BINARY_DIR}/package/ablate")
configure_file("${CMAKE_CURRENT_LIST_DIR}/package/ablate-wrapper.sh.in" "${CPACK_ABLATE_WRAPPER}" @ONLY)
set(CPACK_PRE_BUILD_SCRIPTS "${CMAKE_CURRENT_LIST_DIR}/package/AblatePackageLayout.cmake")

include(CPack)
