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

# Asio and Beast are compiled once (sdk/src/transport/asio_impl.cpp) instead of in
# every translation unit that includes them: every target that includes Asio or Beast
# headers must see the same configuration.
function(herald_use_asio target)
  target_compile_definitions(${target} PRIVATE
    BOOST_ASIO_SEPARATE_COMPILATION BOOST_BEAST_SEPARATE_COMPILATION
    BOOST_ASIO_NO_DEPRECATED)
  target_link_libraries(${target} PRIVATE Boost::headers OpenSSL::SSL OpenSSL::Crypto Threads::Threads)
endfunction()
