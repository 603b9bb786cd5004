# Writes OUTPUT, a C++ source that defines ablate::app::embedded_templates(): the files TEMPLATES
# (paths relative to TEMPLATE_DIR, app/templates/), path and text verbatim, as raw string literals.
# The templates stay plain files a maintainer can read and diff; the binary needs no data files at
# run time.
#   cmake -DTEMPLATE_DIR=app/templates "-DTEMPLATES=common/README.md;mlp/@NAME@.cpp" \
#         -DOUTPUT=embedded_templates.cpp -P embed_templates.cmake
# Run by app/CMakeLists.txt at build time, again whenever a template changes, appears or goes.
cmake_minimum_required(VERSION 3.25)
foreach(required TEMPLATE_DIR TEMPLATES OUTPUT)
  if(NOT ${required})
    message(FATAL_ERROR "embed_templates.cmake: -D${required}=... is required")
  endif()
endforeach()

set(delimiter "tpl")
set(source "// Generated at build time by app/embed_templates.cmake from app/templates/: edit the templates.\n")
string(APPEND source "#include \"plugin_templates.h\"\n\nnamespace ablate::app {\nnamespace {\n\n")
string(APPEND source "const EmbeddedTemplate kTemplates[] = {\n")
list(SORT TEMPLATES)
foreach(template IN LISTS TEMPLATES)
  file(READ "${TEMPLATE_DIR}/${template}" text)
  # A raw string literal ends at the first )tpl": a template holding it would end early.
  string(FIND "${text}" ")${delimiter}\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${TEMPLATE_DIR}/${template} contains )${delimiter}\", which would end its raw string literal")
  endif()
  string(APPEND source "    {\"${template}\",\n     R\"${delimiter}(${text})${delimiter}\"},\n")
endforeach()
string(APPEND source "};\n\n}  // namespace\n\n")
string(APPEND source "std::span<const EmbeddedTemplate> embedded_templates() { return kTemplates; }\n\n")
string(APPEND source "}  // namespace ablate::app\n")
file(WRITE "${OUTPUT}" "${source}")
