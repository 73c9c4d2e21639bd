// The application compiles Asio itself, once (BOOST_ASIO_SEPARATE_COMPILATION): see
// own_asio.cpp. Only Asio: Beast stays header-only in this application.
#include <boost/asio/impl/src.hpp>
