# SPDX-License-Identifier: MIT
# cmake -DTEMPLATE=... -DOUTPUT=... -DPOSIX_HOOK=... -DZSH_HOOK=... -P embed_hooks.cmake
# Writes the hook files into a header as raw string literals; the output is only rewritten when
# its content changes, so an unchanged hook does not rebuild anything.
set(_delimiter ")execmark_hook\"")
foreach(_pair IN ITEMS "POSIX_HOOK;POSIX_HOOK_TEXT" "ZSH_HOOK;ZSH_HOOK_TEXT")
    list(GET _pair 0 _path_var)
    list(GET _pair 1 _text_var)
    file(READ "${${_path_var}}" _text)
    string(FIND "${_text}" "${_delimiter}" _at)
    if(NOT _at EQUAL -1)
        message(FATAL_ERROR "${${_path_var}} contains the raw string delimiter ${_delimiter}")
    endif()
    set(${_text_var} "${_text}")
endforeach()
configure_file("${TEMPLATE}" "${OUTPUT}" @ONLY)
