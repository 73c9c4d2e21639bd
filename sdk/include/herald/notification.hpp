// A notification as the application receives it.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "herald/export.hpp"

namespace herald {

/// One notification of the user's stream.
///
/// The SDK decodes only the envelope on the hot path; `data` stays the raw JSON text the
/// server sent (already validated, nesting depth bounded) and is turned into a DOM only
/// when the application calls data().
struct HERALD_API Notification {
  std::uint64_t id = 0;    ///< strictly increasing within the user's stream
  std::string topic;       ///< application-defined, e.g. "comment"
  std::string created_at;  ///< RFC 3339 UTC timestamp as sent by the server
  std::string data_json;   ///< the `data` member as raw JSON text ("{}" when absent)

  /// Parses data_json. Never throws: data_json was validated when the frame arrived.
  /// This header declares nlohmann::json only; include <nlohmann/json.hpp> to call it.
  nlohmann::json data() const;
};

}  // namespace herald
