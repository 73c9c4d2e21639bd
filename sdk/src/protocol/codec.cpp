#include "protocol/codec.hpp"

#include <simdjson.h>

#include <stdexcept>

#include <nlohmann/json.hpp>

namespace herald::detail::protocol {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;

DecodeResult fail(DecodeError e, std::string detail = {}) {
  DecodeResult r;
  r.error = e;
  r.detail = std::move(detail);
  return r;
}

// Reads an optional string member; false if present with another type.
bool get_string(const object& obj, std::string_view key, std::string& out) {
  auto field = obj.at_key(key);
  if (field.error() == simdjson::NO_SUCH_FIELD) return true;
  std::string_view sv;
  if (field.get(sv) != simdjson::SUCCESS) return false;
  out.assign(sv);
  return true;
}

// Reads an id: a JSON integer in [1, 2^53).
bool get_id(const object& obj, std::string_view key, std::uint64_t& out) {
  std::uint64_t v = 0;
  if (obj.at_key(key).get(v) != simdjson::SUCCESS) return false;
  if (v == 0 || v > kMaxId) return false;
  out = v;
  return true;
}

template <typename T>
bool get_optional_number(const object& obj, std::string_view key, std::optional<T>& out) {
  auto field = obj.at_key(key);
  if (field.error() == simdjson::NO_SUCH_FIELD || field.is_null()) return true;
  T v{};
  if (field.get(v) != simdjson::SUCCESS) return false;
  out = v;
  return true;
}

DecodeResult decode_notification(const object& obj) {
  Notification n;
  if (!get_id(obj, "id", n.id)) return fail(DecodeError::bad_field, "notification.id");
  if (!get_string(obj, "topic", n.topic)) return fail(DecodeError::bad_field, "notification.topic");
  if (!get_string(obj, "created_at", n.created_at)) {
    return fail(DecodeError::bad_field, "notification.created_at");
  }
  auto data = obj.at_key("data");
  if (data.error() == simdjson::NO_SUCH_FIELD) {
    n.data_json = "{}";
  } else {
    object data_obj;
    if (data.get(data_obj) != simdjson::SUCCESS) return fail(DecodeError::bad_field, "notification.data");
    n.data_json = simdjson::minify(data_obj);
  }
  DecodeResult r;
  r.message = std::move(n);
  return r;
}

DecodeResult decode_welcome(const object& obj) {
  Welcome w;
  if (!get_string(obj, "session_id", w.session_id) || !get_string(obj, "user_id", w.user_id)) {
    return fail(DecodeError::bad_field, "welcome.session_id/user_id");
  }
  std::optional<std::uint64_t> heartbeat;
  if (!get_optional_number(obj, "heartbeat_s", heartbeat) || (heartbeat && (*heartbeat == 0 || *heartbeat > 3600))) {
    return fail(DecodeError::bad_field, "welcome.heartbeat_s");
  }
  if (heartbeat) w.heartbeat_s = static_cast<std::uint32_t>(*heartbeat);
  if (!get_optional_number(obj, "token_expires_at", w.token_expires_at)) {
    return fail(DecodeError::bad_field, "welcome.token_expires_at");
  }
  auto features = obj.at_key("features");
  if (features.error() != simdjson::NO_SUCH_FIELD) {
    simdjson::dom::array arr;
    if (features.get(arr) != simdjson::SUCCESS) return fail(DecodeError::bad_field, "welcome.features");
    for (element f : arr) {
      std::string_view sv;
      if (f.get(sv) == simdjson::SUCCESS) w.features.emplace_back(sv);  // others: ignored
    }
  }
  object resume;
  if (obj.at_key("resume").get(resume) == simdjson::SUCCESS) {
    std::string_view status;
    if (resume.at_key("status").get(status) != simdjson::SUCCESS) {
      return fail(DecodeError::bad_field, "welcome.resume.status");
    }
    if (status == "ok") {
      w.resume = ResumeStatus::ok;
    } else if (status == "gap") {
      w.resume = ResumeStatus::gap;
    } else if (status == "fresh") {
      w.resume = ResumeStatus::fresh;
    } else {
      return fail(DecodeError::bad_field, "welcome.resume.status");
    }
    if (!get_optional_number(resume, "from_id", w.from_id) || !get_optional_number(resume, "head_id", w.head_id) ||
        !get_optional_number(resume, "missed", w.missed)) {
      return fail(DecodeError::bad_field, "welcome.resume ids");
    }
    if (!get_string(resume, "epoch", w.epoch) || (!w.epoch.empty() && !herald::is_valid_epoch(w.epoch))) {
      return fail(DecodeError::bad_field, "welcome.resume.epoch");
    }
  }
  DecodeResult r;
  r.message = std::move(w);
  return r;
}

}  // namespace

const char* to_string(DecodeError e) noexcept {
  switch (e) {
    case DecodeError::none: return "none";
    case DecodeError::too_large: return "frame too large";
    case DecodeError::not_json: return "not JSON";
    case DecodeError::too_deep: return "nested too deeply";
    case DecodeError::not_object: return "not a JSON object";
    case DecodeError::missing_type: return "no string member 'type'";
    case DecodeError::bad_field: return "missing or ill-typed member";
  }
  return "unknown";
}

Decoder::Decoder(std::size_t max_frame_bytes, std::size_t max_depth)
    : parser_(std::make_unique<simdjson::dom::parser>(max_frame_bytes)),
      max_frame_bytes_(max_frame_bytes),
      max_depth_(max_depth) {
  // A small initial capacity; it grows (up to max_frame_bytes) with the largest frame.
  // Allocation failure leaves the parser empty; decode() then reports it per frame.
  if (parser_->allocate(4096, max_depth) != simdjson::SUCCESS) parser_.reset();
}

Decoder::~Decoder() = default;
Decoder::Decoder(Decoder&&) noexcept = default;
Decoder& Decoder::operator=(Decoder&&) noexcept = default;

DecodeResult Decoder::decode(std::string_view frame) {
  if (frame.size() > max_frame_bytes_) return fail(DecodeError::too_large);
  if (!parser_) return fail(DecodeError::too_large, "decoder could not allocate");
  element root;
  auto err = parser_->parse(frame.data(), frame.size()).get(root);
  if (err == simdjson::DEPTH_ERROR) return fail(DecodeError::too_deep);
  if (err == simdjson::NUMBER_ERROR && !renormalising_) {
    return decode_renormalised(frame);
  }
  if (err == simdjson::CAPACITY) return fail(DecodeError::too_large);
  if (err != simdjson::SUCCESS) return fail(DecodeError::not_json, simdjson::error_message(err));
  object obj;
  if (root.get(obj) != simdjson::SUCCESS) return fail(DecodeError::not_object);
  std::string_view type;
  if (obj.at_key("type").get(type) != simdjson::SUCCESS) return fail(DecodeError::missing_type);

  if (type == "notification") return decode_notification(obj);
  DecodeResult r;
  if (type == "caught_up") {
    CaughtUp c;
    std::optional<std::uint64_t> head;
    if (!get_optional_number(obj, "head_id", head)) return fail(DecodeError::bad_field, "caught_up.head_id");
    c.head_id = head.value_or(0);
    r.message = c;
  } else if (type == "welcome") {
    return decode_welcome(obj);
  } else if (type == "reauth_ok") {
    ReauthOk ok;
    if (obj.at_key("expires_at").get(ok.expires_at) != simdjson::SUCCESS) {
      return fail(DecodeError::bad_field, "reauth_ok.expires_at");
    }
    r.message = ok;
  } else if (type == "drain") {
    std::uint64_t ms = 0;
    if (obj.at_key("reconnect_within_ms").get(ms) != simdjson::SUCCESS || ms > 24ull * 3600 * 1000) {
      return fail(DecodeError::bad_field, "drain.reconnect_within_ms");
    }
    r.message = Drain{std::chrono::milliseconds{static_cast<std::int64_t>(ms)}};
  } else if (type == "error") {
    ServerError e;
    if (!get_string(obj, "code", e.code) || !get_string(obj, "message", e.message)) {
      return fail(DecodeError::bad_field, "error.code/message");
    }
    r.message = std::move(e);
  } else {
    r.message = Unknown{std::string(type)};
  }
  return r;
}

// Valid JSON that simdjson refuses: numbers beyond 64 bits. nlohmann reads them (as
// doubles, the precision every JSON consumer gets), with the nesting depth bounded by
// its callback; the re-serialised text then takes the normal path. Rare and slow by
// design: refusing such a frame would make the client reconnect forever on the same
// replayed notification.
DecodeResult Decoder::decode_renormalised(std::string_view frame) {
  std::string normalised;
  try {
    const auto depth_limit = static_cast<int>(max_depth_);
    auto parsed =
        nlohmann::json::parse(frame, [depth_limit](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
          if (depth > depth_limit) throw std::length_error("too deep");
          return true;
        });
    normalised = parsed.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } catch (const std::length_error&) {
    return fail(DecodeError::too_deep);
  } catch (const std::exception&) {
    return fail(DecodeError::not_json, "number out of range");
  }
  renormalising_ = true;
  auto result = decode(normalised);
  renormalising_ = false;
  return result;
}

std::string encode_reauth(std::string_view token) {
  nlohmann::json j{{"type", "reauth"}, {"token", token}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string refusal_code(std::string_view body) {
  if (body.size() > 4096) return {};
  simdjson::dom::parser parser;
  object obj;
  std::string_view code;
  if (parser.parse(body.data(), body.size()).get(obj) != simdjson::SUCCESS) return {};
  if (obj.at_key("error").get(code) != simdjson::SUCCESS) return {};
  return std::string(code);
}

}  // namespace herald::detail::protocol
