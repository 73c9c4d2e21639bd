// Decoding server frames and encoding client frames. Pure functions, no I/O; the
// fuzz target drives Decoder directly.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "protocol/messages.hpp"

namespace simdjson::dom {
class parser;
}

namespace herald::detail::protocol {

enum class DecodeError {
  none = 0,
  too_large,     ///< frame longer than the configured maximum
  not_json,      ///< not valid UTF-8 JSON
  too_deep,      ///< nesting deeper than the configured maximum
  not_object,    ///< valid JSON, but not an object
  missing_type,  ///< no string member `type`
  bad_field,     ///< a known message with a missing or ill-typed member
};
const char* to_string(DecodeError e) noexcept;

struct DecodeResult {
  DecodeError error = DecodeError::none;
  std::string detail;  ///< which member was wrong; never contains frame content
  ServerMessage message;
  explicit operator bool() const noexcept { return error == DecodeError::none; }
};

/// Decodes server frames without building a DOM of the envelope: simdjson validates the
/// whole frame (structure, UTF-8, depth) and the envelope members are read from its
/// tape; `data` is kept as minified JSON text. One Decoder per connection; reusing it
/// reuses its buffers. Never throws.
class Decoder {
 public:
  static constexpr std::size_t kDefaultMaxDepth = 64;
  explicit Decoder(std::size_t max_frame_bytes = 1 << 20, std::size_t max_depth = kDefaultMaxDepth);
  ~Decoder();
  Decoder(Decoder&&) noexcept;
  Decoder& operator=(Decoder&&) noexcept;

  DecodeResult decode(std::string_view frame);

 private:
  DecodeResult decode_renormalised(std::string_view frame);

  std::unique_ptr<simdjson::dom::parser> parser_;
  std::size_t max_frame_bytes_;
  std::size_t max_depth_;
  bool renormalising_ = false;
};

/// {"type":"reauth","token":"..."}
std::string encode_reauth(std::string_view token);

/// The `error` member of a handshake refusal body ({"error":"token_expired"}), or ""
/// when the body is not such an object.
std::string refusal_code(std::string_view body);

}  // namespace herald::detail::protocol
