// libFuzzer target: Decoder::decode on arbitrary bytes. Invariants checked on every
// input: no exception, no crash (ASan/UBSan), a successful Notification has a valid id
// and data that parses back to a JSON object, and the lifecycle never hands the
// application a duplicate. Also built, under another entry name, into the corpus
// replay test (HERALD_FUZZ_ENTRY).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "lifecycle/lifecycle.hpp"
#include "protocol/codec.hpp"

#ifndef HERALD_FUZZ_ENTRY
#define HERALD_FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

namespace {

using namespace herald::detail;

void require(bool ok) {
  if (!ok) std::abort();
}

void check_decoded(const protocol::DecodeResult& r) {
  require(static_cast<bool>(r) == (r.error == protocol::DecodeError::none));
  if (!r) return;
  if (const auto* n = std::get_if<herald::Notification>(&r.message)) {
    require(n->id >= 1 && n->id <= protocol::kMaxId);
    // data_json was validated by the decoder: it must parse (throwing here is a crash).
    const auto data = nlohmann::json::parse(n->data_json);
    require(data.is_object());
    require(n->data() == data);
    (void)data.dump();  // depth is bounded, so dumping must not overflow the stack
  }
  if (const auto* w = std::get_if<protocol::Welcome>(&r.message)) {
    require(w->heartbeat_s >= 1 && w->heartbeat_s <= 3600);
  }
}

// Feeds the frame to a lifecycle whose application already holds cursor 5.
void check_lifecycle(std::string_view frame) {
  constexpr std::uint64_t kCursor = 5;
  Lifecycle lc(
      LifecycleConfig{}, [](std::uint64_t upper) { return upper / 2; }, herald::Cursor{kCursor, "e-fuzz"});
  const SteadyTime t0{std::chrono::hours{1}};
  (void)lc.start(t0);
  (void)lc.token_ready(t0, std::string("tok"), std::nullopt, std::nullopt, {});
  (void)lc.connected(t0, 1);
  protocol::Decoder welcome_decoder;
  (void)lc.frame(t0, 1,
                 welcome_decoder.decode(R"({"type":"welcome","resume":{"status":"ok","head_id":5,"epoch":"e-fuzz"}})"));
  protocol::Decoder decoder;
  for (const auto& action : lc.frame(t0, 1, decoder.decode(frame))) {
    if (const auto* d = std::get_if<Deliver>(&action)) require(d->notification.id > kCursor);
  }
}

}  // namespace

extern "C" int HERALD_FUZZ_ENTRY(const std::uint8_t* data, std::size_t size) {
  const std::string_view frame(reinterpret_cast<const char*>(data), size);
  static protocol::Decoder reused;  // like a connection's decoder: buffers reused across frames
  check_decoded(reused.decode(frame));
  protocol::Decoder small(1024, 8);  // a tight limit exercises the too_large/too_deep paths
  check_decoded(small.decode(frame));
  (void)protocol::refusal_code(frame);
  check_lifecycle(frame);
  return 0;
}
