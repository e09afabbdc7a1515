# trident_target_settings(TARGET): the one place warnings, -Werror and sanitizers are applied.
# Every target of the project (library, tests, benchmarks, tools, examples) goes through it.
function(trident_target_settings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Wunused
    -Woverloaded-virtual -Wimplicit-fallthrough -Wformat=2)
  if(TRIDENT_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(TRIDENT_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${TRIDENT_SANITIZE} -fno-omit-frame-pointer -g)
    target_link_options(${target} PRIVATE -fsanitize=${TRIDENT_SANITIZE})
    if(TRIDENT_SANITIZE MATCHES "undefined")
      target_compile_options(${target} PRIVATE -fno-sanitize-recover=undefined)
    endif()
  endif()
endfunction()
