# Installs the host, its plugins, and the SDK (headers, libablate_sdk.so, CMake package) so that
# a plugin can be built outside this tree:  find_package(Ablate) ... ablate_add_plugin(...).
include(CMakePackageConfigHelpers)
install(TARGETS ablate_sdk EXPORT AblateTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/core/sdk/include/ablate/sdk DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ablate)
install(EXPORT AblateTargets NAMESPACE ablate:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Ablate)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/AblateConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/AblateConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Ablate)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/AblateConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/AblateConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/AblateConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/AblatePlugin.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Ablate)
