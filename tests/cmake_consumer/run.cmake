# Script mode: puts an installed Herald in a prefix, then configures, builds and runs the
# consumer project against it, and builds main.cpp once more with pkg-config only. The
# SDK-only apps run against the installed herald-server (run_against_server.sh), the
# others against a herald::testkit::TestServer of their own.
#   MODE=static: `cmake --install` of this build (static libraries) into PREFIX.
#   MODE=shared: a shared build of the source tree (BUILD_SHARED_LIBS=ON, installed to
#     /usr), packaged with `cpack -G DEB`, and the .deb installed with `dpkg -i` into a
#     throw-away root; the consumers build against ROOT/usr.
# run_capture(var command...): runs the command, stops the test if it fails, and puts
# its standard output in var. run(command...): the same, output shown only on failure.
function(run_capture var)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err
    OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(${var} "${out}" PARENT_SCOPE)
endfunction()
function(run)
  run_capture(ignored ${ARGN})
endfunction()

file(REMOVE_RECURSE ${WORK})
set(consumer_build ${WORK}/consumer-build)
if(MODE STREQUAL "static")
  set(prefix ${WORK}/prefix)
  run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix} --component Unspecified)
else()
  set(herald_build ${WORK}/herald-build)
  run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${herald_build} -G ${GENERATOR} -DCMAKE_CXX_COMPILER=${CXX}
    -DBUILD_SHARED_LIBS=ON -DHERALD_BUILD_TESTS=OFF -DHERALD_BUILD_QT=${EXPECT_QT} -DHERALD_WERROR=ON
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr)
  run(${CMAKE_COMMAND} --build ${herald_build})
  run(${CMAKE_COMMAND} -E chdir ${herald_build} cpack -G DEB)
  file(GLOB deb ${herald_build}/herald_*.deb)
  run_capture(depends dpkg-deb --field ${deb} Depends)
  foreach(needed libboost1.81-dev libssl-dev nlohmann-json3-dev libssl3)
    if(NOT depends MATCHES "${needed}")
      message(FATAL_ERROR "the package's Depends lacks ${needed}: ${depends}")
    endif()
  endforeach()
  # A throw-away root with an empty dpkg database: --force-depends, since none of the
  # package's dependencies is recorded there (they are installed on this machine), and
  # --force-script-chrootless, since the root has no shell to run the postinst in (it
  # runs ldconfig, which then refreshes this machine's cache: harmless).
  set(root ${WORK}/root)
  file(MAKE_DIRECTORY ${root}/var/lib/dpkg/info ${root}/var/lib/dpkg/updates ${root}/var/lib/dpkg/triggers)
  file(TOUCH ${root}/var/lib/dpkg/status ${root}/var/lib/dpkg/available)
  run(dpkg --root=${root} --force-not-root --force-depends --force-script-chrootless
    --log=/dev/null -i ${deb})
  set(prefix ${root}/usr)
endif()

file(GLOB_RECURSE pc_file ${prefix}/*/herald.pc)
get_filename_component(pc_dir ${pc_file} DIRECTORY)
get_filename_component(libdir ${pc_dir} DIRECTORY)
set(run_env ${CMAKE_COMMAND} -E env LD_LIBRARY_PATH=${libdir})  # for what has no RPATH
# The apps that link herald::sdk alone run against the installed herald-server.
set(against_server ${CMAKE_CURRENT_LIST_DIR}/run_against_server.sh ${prefix}/bin/herald-server)

if(MODE STREQUAL "shared")
  # Every strong symbol the libraries export is herald::'s: no function or object of
  # Asio, Beast, simdjson or nlohmann is defined there for an application to bind to.
  # What remains beside them is vague linkage (weak and unique symbols: template
  # instances, inline functions' statics, typeinfo), which the dynamic linker merges
  # with the application's own copies. For Asio that is on purpose (its headers give
  # its declarations default visibility): an application that runs Herald on its own
  # io_context must share one copy of Asio's per-thread state with libherald.so --
  # kept apart, the own-Asio consumers below crash in the app's io_context::run().
  foreach(lib libherald.so libherald-qt.so)
    if(NOT EXISTS ${libdir}/${lib})
      continue()
    endif()
    run_capture(symbols nm -D --defined-only -C ${libdir}/${lib})
    string(REPLACE "\n" ";" symbols "${symbols}")
    foreach(line IN LISTS symbols)
      if(line MATCHES "^[0-9a-f]+ [TDBR] " AND NOT line MATCHES "^[0-9a-f]+ [TDBR] herald::")
        message(FATAL_ERROR "${lib} exports a symbol outside herald::: ${line}")
      endif()
    endforeach()
    if(lib STREQUAL "libherald.so" AND NOT symbols MATCHES " u boost::asio::detail::call_stack<boost::asio::detail::thread_context")
      message(FATAL_ERROR "${lib} keeps Asio's per-thread call stack to itself (BOOST_ASIO_DISABLE_VISIBILITY?)")
    endif()
  endforeach()
  # The package carries no debug information (HeraldPackage.cmake).
  foreach(file ${libdir}/libherald.so ${libdir}/libherald_server.a ${prefix}/bin/herald-server)
    run_capture(sections readelf -S --wide ${file})
    if(sections MATCHES "\\.debug_info")
      message(FATAL_ERROR "${file} in the package is not stripped")
    endif()
  endforeach()
endif()

run(${CMAKE_COMMAND} -S ${CONSUMER_SRC} -B ${consumer_build} -G ${GENERATOR} -DCMAKE_CXX_COMPILER=${CXX}
  -DCMAKE_PREFIX_PATH=${prefix} -DEXPECT_QT=${EXPECT_QT})
run(${CMAKE_COMMAND} --build ${consumer_build})
set(apps herald_consumer herald_testing_consumer herald_own_asio_consumer herald_own_asio_separate_consumer)
if(EXPECT_QT)
  list(APPEND apps herald_qt_consumer)
endif()
foreach(app IN LISTS apps)
  if(MODE STREQUAL "shared")  # the app really runs on the shared library
    run_capture(needed readelf -d ${consumer_build}/${app})
    if(NOT needed MATCHES "libherald.so.${SOVERSION}")
      message(FATAL_ERROR "${app} does not link libherald.so.${SOVERSION}:\n${needed}")
    endif()
  endif()
  if(app STREQUAL "herald_consumer")  # herald::sdk alone: against the installed server
    run(${run_env} ${against_server} ${consumer_build}/${app})
  else()  # herald::testing: a TestServer in the process
    run(${consumer_build}/${app})
  endif()
endforeach()

# Without CMake: the compiler and pkg-config only.
run_capture(pc_flags ${CMAKE_COMMAND} -E env PKG_CONFIG_PATH=${pc_dir} pkg-config --cflags --libs herald)
separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
run(${CXX} -std=c++20 ${CONSUMER_SRC}/main.cpp -o ${consumer_build}/herald_pkgconfig_consumer ${pc_flags})
run(${run_env} ${against_server} ${consumer_build}/herald_pkgconfig_consumer)

# The binaries are installed too, and say the project's version.
set(binaries herald-server)
if(EXPECT_CLI)
  list(APPEND binaries herald-cli)
endif()
foreach(binary IN LISTS binaries)
  run_capture(version ${run_env} ${prefix}/bin/${binary} --version)
  if(NOT version MATCHES "${VERSION}")
    message(FATAL_ERROR "${binary} --version says '${version}', not ${VERSION}")
  endif()
endforeach()
