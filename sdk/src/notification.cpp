#include "herald/notification.hpp"

#include <nlohmann/json.hpp>

namespace herald {

nlohmann::json Notification::data() const {
  // data_json was validated (and its depth bounded) by the protocol decoder; the
  // non-throwing overload keeps a hand-built Notification with bad text harmless too.
  auto parsed = nlohmann::json::parse(data_json, nullptr, /*allow_exceptions=*/false);
  return parsed.is_discarded() ? nlohmann::json::object() : parsed;
}

}  // namespace herald
