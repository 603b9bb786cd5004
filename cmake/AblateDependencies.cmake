# Finds every dependency of ablate. LibTorch comes from the PyPI wheel (CMAKE_PREFIX_PATH from
# torch.utils.cmake_prefix_path); everything else from Debian's -dev packages (scripts/setup.sh).

# A CUDA wheel's TorchConfig needs the CUDA toolkit. Naming the architectures skips its GPU probe,
# which would otherwise try a CUDA20 test project that CMake 3.25 cannot configure (and needs no GPU).
if(NOT ABLATE_ENGINE_ONLY)
  if(NOT DEFINED TORCH_CUDA_ARCH_LIST AND NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
    set(TORCH_CUDA_ARCH_LIST "9.0")
  endif()
  find_package(Torch REQUIRED)
  # Installed binaries must find LibTorch where it was at build time. CMAKE_INSTALL_RPATH_USE_LINK_PATH
  # leaves out link directories inside the project, which is where scripts/setup.sh puts the wheel
  # (.venv/) when no python3 has it: name its lib directory explicitly.
  get_filename_component(ABLATE_TORCH_LIB_DIR "${TORCH_LIBRARY}" DIRECTORY)
  list(APPEND CMAKE_INSTALL_RPATH "${ABLATE_TORCH_LIB_DIR}")
endif()

# The CUDA part: compiled whenever LibTorch was built with CUDA (then the toolkit is present, or
# find_package(Torch) above would have failed). Link torch_cuda with --no-as-needed, or the CUDA
# backend is never registered and torch::cuda::is_available() stays false even on a GPU machine.
set(ABLATE_WITH_CUDA OFF)
if(TARGET torch_cuda OR TORCH_CUDA_LIBRARIES)
  set(ABLATE_WITH_CUDA ON)
endif()
message(STATUS "ablate: LibTorch ${Torch_VERSION}, CUDA path ${ABLATE_WITH_CUDA}")

find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS iostreams filesystem)
find_package(PkgConfig REQUIRED)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
find_program(GNUPLOT_EXECUTABLE gnuplot REQUIRED)
