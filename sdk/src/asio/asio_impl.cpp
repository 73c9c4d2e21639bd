// The one translation unit that compiles Asio, Asio SSL and Beast (separate
// compilation, see herald_use_asio in cmake/HeraldTargets.cmake). Every other file
// includes their headers without the implementation, which keeps rebuilds fast.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
