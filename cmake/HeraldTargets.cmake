# Helpers shared by every Herald target.

# Warnings are set per target, never globally, so consumers of our headers are not
# forced onto our flags. Warnings are errors in CI-built targets of this project.
function(herald_set_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
    -Woverloaded-virtual -Wconversion -Wsign-conversion
    -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough
    $<$<BOOL:${HERALD_WERROR}>:-Werror>)
endfunction()

# Asio and Beast header-only, in every target: no Herald library ships a compiled Asio,
# so an application that uses Asio itself (header-only or compiled separately, see
# tests/cmake_consumer/project/own_asio.cpp) links exactly one -- its own definitions
# and ours are the same inline functions. In libherald.so, built with hidden visibility,
# Asio's own declarations keep default visibility (its headers push it; never define
# BOOST_ASIO_DISABLE_VISIBILITY): its template statics, such as the per-thread call
# stack, are then one copy per process, shared with an application that runs Herald on
# its own io_context -- two copies crash there (tests/cmake_consumer/run.cmake). Also
# gives the internal Asio helpers in sdk/src/asio (erased_stream.hpp,
# parked_op_cancellation.hpp).
function(herald_use_asio target)
  target_compile_definitions(${target} PRIVATE BOOST_ASIO_NO_DEPRECATED)
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/sdk/src/asio)
  target_link_libraries(${target} PRIVATE Boost::headers OpenSSL::SSL OpenSSL::Crypto Threads::Threads)
endfunction()
