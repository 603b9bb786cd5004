# Precompiled LibTorch headers. Parsing ATen and torch::nn is most of the 15-40 s a LibTorch source
# file takes to compile; precompiled once per target (or once for all plugins), it is paid once.
# Measured in docs/benchmarks.md ("Build times"). -DABLATE_PRECOMPILED_HEADERS=OFF turns it off.
option(ABLATE_PRECOMPILED_HEADERS "Precompile the LibTorch headers of the torch-heavy targets" ON)

# The headers nearly every LibTorch file of ablate includes.
set(ABLATE_TORCH_PCH_HEADERS
  <ATen/ATen.h>
  <torch/nn/module.h>
  <torch/nn/modules/linear.h>
  <torch/nn/functional/activation.h>
  <torch/nn/init.h>
  <torch/utils.h>)

# ablate_precompile_headers(<target> <header>...): the target precompiles these headers for its own
# sources. Worth it for targets of many sources that all include the same heavy headers.
function(ablate_precompile_headers target)
  if(ABLATE_PRECOMPILED_HEADERS)
    target_precompile_headers(${target} PRIVATE ${ARGN})
  endif()
endfunction()

# ablate_precompile_torch_headers(<target> [<header>...]): LibTorch's and these.
function(ablate_precompile_torch_headers target)
  ablate_precompile_headers(${target} ${ABLATE_TORCH_PCH_HEADERS} ${ARGN})
endfunction()

# Plugins are one source file each: a header precompiled per plugin would save nothing. They reuse
# the one of ablate_plugin_pch, an object library compiled with the same flags as every plugin
# (ablate_add_plugin): PIC, hidden visibility, the SDK's include path and definitions.
function(ablate_add_plugin_pch)
  if(NOT ABLATE_PRECOMPILED_HEADERS)
    return()
  endif()
  set(stub ${CMAKE_CURRENT_BINARY_DIR}/ablate_plugin_pch.cpp)
  file(GENERATE OUTPUT ${stub} CONTENT "// The precompiled headers of every in-tree plugin are built with this file.\n")
  add_library(ablate_plugin_pch OBJECT ${stub})
  target_link_libraries(ablate_plugin_pch PRIVATE ablate_sdk)
  set_target_properties(ablate_plugin_pch PROPERTIES
    POSITION_INDEPENDENT_CODE ON CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  target_precompile_headers(ablate_plugin_pch PRIVATE ${ABLATE_TORCH_PCH_HEADERS})
endfunction()
