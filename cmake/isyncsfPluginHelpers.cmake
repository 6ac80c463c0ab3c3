# isyncsf_add_plugin(<name> <sources...> [INSTALL_DIR <dir>])
#
# Builds an isyncsf plugin: a MODULE library named exactly <name>.so (PREFIX ""), compiled
# against isyncsf::plugin with hidden visibility (only the two symbols marked ISF_PLUGIN_EXPORT
# leave the module) and linked with -z defs (no undefined symbol may remain: a plugin reaches the
# core only through the host table it is handed). It is installed into INSTALL_DIR, by default
# ${ISYNCSF_PLUGIN_INSTALL_DIR} (e.g. lib/isyncsf/plugins) under the install prefix, which is
# where an isyncsf installed in the same prefix looks for plugins by name.
#
# <name> must be the descriptor's name: "auth-<mode>" or "store-<backend>" ([a-z0-9-]+).
function(isyncsf_add_plugin name)
  cmake_parse_arguments(PARSE_ARGV 1 ISYNCSF_ADD_PLUGIN "" "INSTALL_DIR" "")
  set(sources ${ISYNCSF_ADD_PLUGIN_UNPARSED_ARGUMENTS})
  if(NOT sources)
    message(FATAL_ERROR "isyncsf_add_plugin(${name}): no sources given")
  endif()
  if(NOT name MATCHES "^(auth|store)-[a-z0-9-]+$")
    message(FATAL_ERROR "isyncsf_add_plugin(${name}): the name must be auth-<mode> or "
                        "store-<backend>, lower-case letters, digits and '-'")
  endif()
  set(dir "${ISYNCSF_ADD_PLUGIN_INSTALL_DIR}")
  if(NOT dir)
    set(dir "${ISYNCSF_PLUGIN_INSTALL_DIR}")
  endif()
  add_library(${name} MODULE ${sources})
  set_target_properties(${name} PROPERTIES PREFIX "" OUTPUT_NAME ${name}
                        C_VISIBILITY_PRESET hidden CXX_VISIBILITY_PRESET hidden
                        VISIBILITY_INLINES_HIDDEN ON)
  target_link_libraries(${name} PRIVATE isyncsf::plugin)
  target_link_options(${name} PRIVATE "LINKER:-z,defs")
  install(TARGETS ${name} LIBRARY DESTINATION "${dir}")
endfunction()
