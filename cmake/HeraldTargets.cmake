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

# herald_library_abi(LIBRARY target BASE_NAME base HEADER path [PARTS part...]): what a
# Herald library needs to be built static or shared (BUILD_SHARED_LIBS). Hidden
# visibility for the library and the object parts compiled into it; the export macro
# <BASE>_API in the generated header include/<path> (CMake's GenerateExportHeader),
# which exports from the shared library, is defined by the build of the library and its
# parts (<BASE>_BUILDING) and is empty in a static build (<BASE>_STATIC_DEFINE, also for
# what links a part alone); the version and soname (HERALD_SOVERSION).
include(GenerateExportHeader)
function(herald_library_abi)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "LIBRARY;BASE_NAME;HEADER" "PARTS")
  string(TOUPPER ${arg_BASE_NAME} base)
  generate_export_header(${arg_LIBRARY} BASE_NAME ${arg_BASE_NAME} EXPORT_MACRO_NAME ${base}_API
    EXPORT_FILE_NAME ${CMAKE_CURRENT_BINARY_DIR}/include/${arg_HEADER})
  set_target_properties(${arg_LIBRARY} PROPERTIES
    VERSION ${PROJECT_VERSION} SOVERSION ${HERALD_SOVERSION} DEFINE_SYMBOL ${base}_BUILDING)
  foreach(target ${arg_LIBRARY} ${arg_PARTS})
    set_target_properties(${target} PROPERTIES CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
    target_include_directories(${target} PUBLIC $<BUILD_INTERFACE:${CMAKE_CURRENT_BINARY_DIR}/include>)
    if(NOT BUILD_SHARED_LIBS)
      target_compile_definitions(${target} PUBLIC ${base}_STATIC_DEFINE)
    elseif(NOT target STREQUAL arg_LIBRARY)
      target_compile_definitions(${target} PRIVATE ${base}_BUILDING)  # objects of the library
    endif()
  endforeach()
endfunction()
