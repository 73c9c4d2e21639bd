# The Debian package (cpack -G DEB in a build configured with CMAKE_INSTALL_PREFIX=/usr,
# usually shared: -DBUILD_SHARED_LIBS=ON). One package, `herald`: the SDK library, its
# headers, CMake package and pkg-config file, herald::qt and herald::testing when built,
# and the herald-server and herald-cli binaries. Depends lists the -dev packages the
# CMake config finds for herald::sdk; the run-time libraries come from dpkg-shlibdeps.
# The Qt and testing parts load only when their own dependencies are there (see
# cmake/heraldConfig.cmake.in), so those are Recommends, not Depends.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME herald)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}: C++ SDK, reference server and CLI")
set(CPACK_PACKAGE_CONTACT "Herald developers <herald@example.invalid>")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS
  "libboost1.81-dev, libssl-dev (>= 3), nlohmann-json3-dev (>= 3.11), libsimdjson-dev")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "qt6-base-dev, libsqlite3-dev, libspdlog-dev, libcpp-jwt-dev")
# Only Herald's own files (the Unspecified component), never a dependency's.
set(CPACK_COMPONENTS_ALL Unspecified)
# Without debug information, whatever the build type (a RelWithDebInfo package was
# 52 MB, 363 MB installed): the binaries and libraries stripped, the static fault-kit
# archives stripped of their debug sections by HeraldPackageStrip.cmake.
set(CPACK_STRIP_FILES ON)
set(CPACK_PRE_BUILD_SCRIPTS ${CMAKE_CURRENT_LIST_DIR}/HeraldPackageStrip.cmake)
include(CPack)
