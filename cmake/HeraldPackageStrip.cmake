# CPack pre-build script (CPACK_PRE_BUILD_SCRIPTS): removes the debug information from
# the static archives staged for the package, which CPACK_STRIP_FILES leaves alone
# (CMake strips executables and shared libraries only). Their symbol tables stay, so
# they still link.
file(GLOB_RECURSE archives "${CPACK_TEMPORARY_DIRECTORY}/*.a")
foreach(archive IN LISTS archives)
  execute_process(COMMAND strip --strip-debug "${archive}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "strip --strip-debug ${archive} failed (${rc})")
  endif()
endforeach()
