// Chaos: a scripted server that breaks the protocol. The client must never crash, never
// hand a malformed notification to the application, reconnect after a protocol error,
// ignore unknown message types on the same connection, and keep working afterwards.
#include <algorithm>
#include <atomic>
#include <optional>

#include <nlohmann/json.hpp>

#include "chaos/chaos_fixture.hpp"
#include "chaos/scripted_ws_server.hpp"
#include "support/recorder.hpp"
#include "support/stream_checker.hpp"

namespace herald::test {
namespace {

using namespace std::chrono_literals;
using MisbehavingServer = ChaosTest;

struct BadFrameCase {
  const char* name;
  ScriptedFrame frame;
};

std::string nested(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

class BadFrame : public ChaosTest, public ::testing::WithParamInterface<BadFrameCase> {};

// Connection 0: welcome, caught_up, the bad frame, then a valid notification 1 that a
// client must not see on this connection (it has to drop it after the bad frame).
// Connection 1: welcome, caught_up, notification 1 (replayed), notification 2.
TEST_P(BadFrame, IsNeverDeliveredAndCausesAReconnectAfterWhichTheStreamContinues) {
  ScriptedWsServer server([&](std::size_t n) {
    std::vector<ScriptedFrame> f{ScriptedFrame::text(welcome_json()), ScriptedFrame::text(caught_up_json(0))};
    if (n == 0) {
      f.push_back(GetParam().frame);
      f.push_back(ScriptedFrame::text(notification_json(1, R"({"after":"bad"})")));
    } else {
      f.push_back(ScriptedFrame::text(notification_json(1, R"({"ok":1})")));
      f.push_back(ScriptedFrame::text(notification_json(2, R"({"ok":2})")));
    }
    return f;
  });
  Client client(client_options(server.url()));
  Recorder rec;
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_ids(2, 20s));
  const auto seen = rec.snapshot();
  EXPECT_TRUE(DeliveredExactlyOnceInOrder(seen.ids(), {1, 2}));
  for (const auto& n : seen.notifications) {
    EXPECT_TRUE(n.data().contains("ok")) << "delivered from the bad connection: " << n.data_json;
  }
  EXPECT_GE(client.metrics().reconnects, 1u);
  EXPECT_GE(server.connections(), 2u);
  const auto it = std::find_if(seen.states.begin(), seen.states.end(),
                               [](const StateEvent& e) { return e.state == State::reconnecting; });
  ASSERT_NE(it, seen.states.end());
  EXPECT_NE(it->reason, errc{}) << "a reconnect after a protocol error carries its reason";
  client.stop();
}

INSTANTIATE_TEST_SUITE_P(
    Frames, BadFrame,
    ::testing::Values(
        BadFrameCase{"not_json", ScriptedFrame::text("this is not JSON {")},
        BadFrameCase{"binary", ScriptedFrame::binary(notification_json(1))},
        BadFrameCase{"notification_without_id",
                     ScriptedFrame::text(R"({"type":"notification","topic":"t","created_at":"x","data":{}})")},
        BadFrameCase{"notification_with_string_id",
                     ScriptedFrame::text(R"({"type":"notification","id":"1","topic":"t","created_at":"x","data":{}})")},
        BadFrameCase{"notification_with_negative_id",
                     ScriptedFrame::text(R"({"type":"notification","id":-1,"topic":"t","created_at":"x","data":{}})")},
        BadFrameCase{"notification_with_fractional_id",
                     ScriptedFrame::text(R"({"type":"notification","id":1.5,"topic":"t","created_at":"x","data":{}})")},
        BadFrameCase{"frame_of_2_MiB",
                     ScriptedFrame::text(notification_json(1, R"({"big":")" + std::string(2u << 20, 'x') + R"("})"))},
        BadFrameCase{"nested_100000_deep", ScriptedFrame::text(nested(100'000))},
        BadFrameCase{"notification_data_nested_100000_deep",
                     ScriptedFrame::text(notification_json(1, R"({"d":)" + nested(100'000) + "}"))},
        BadFrameCase{
            "notification_with_id_above_uint64",
            ScriptedFrame::text(
                R"({"type":"notification","id":18446744073709551616,"topic":"t","created_at":"x","data":{}})")},
        BadFrameCase{"notification_with_id_above_2_53",
                     ScriptedFrame::text(
                         R"({"type":"notification","id":9007199254740993,"topic":"t","created_at":"x","data":{}})")},
        BadFrameCase{
            "notification_with_data_not_an_object",
            ScriptedFrame::text(R"({"type":"notification","id":1,"topic":"t","created_at":"x","data":"str"})")},
        BadFrameCase{"json_array_not_object", ScriptedFrame::text("[1,2,3]")},
        BadFrameCase{"invalid_utf8", ScriptedFrame::text(std::string(R"({"type":"notification","id":1,"topic":")") +
                                                         "\xff\xfe" + R"(","created_at":"x","data":{}})")}),
    [](const ::testing::TestParamInfo<BadFrameCase>& i) { return std::string(i.param.name); });

TEST_F(MisbehavingServer, UnknownTypesAndMembersAreIgnoredOnTheSameConnection) {
  ScriptedWsServer server([](std::size_t) {
    return std::vector<ScriptedFrame>{
        ScriptedFrame::text(welcome_json()),
        ScriptedFrame::text(R"({"type":"from_the_future","x":[1,{"y":2}]})"),
        ScriptedFrame::text(caught_up_json(0)),
        ScriptedFrame::text(R"({"type":"notification","id":1,"created_at":"x","topic":"t","data":{},"extra":{"a":1}})"),
        ScriptedFrame::text(R"({"type":"telemetry"})"),
        ScriptedFrame::text(notification_json(2)),
    };
  });
  Client client(client_options(server.url()));
  Recorder rec;
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_ids(2));
  EXPECT_TRUE(DeliveredExactlyOnceInOrder(rec.ids(), {1, 2}));
  client.stop();
  EXPECT_EQ(client.metrics().reconnects, 0u);
  EXPECT_EQ(server.connections(), 1u);
}

TEST_F(MisbehavingServer, IdsAtOrBelowTheCursorAreDroppedSilently) {
  ScriptedWsServer server([](std::size_t) {
    std::vector<ScriptedFrame> f{ScriptedFrame::text(welcome_json()), ScriptedFrame::text(caught_up_json(0))};
    for (std::uint64_t id : std::initializer_list<std::uint64_t>{1, 2, 2, 1, 3, 3, 4})
      f.push_back(ScriptedFrame::text(notification_json(id)));
    return f;
  });
  Client client(client_options(server.url()));
  Recorder rec;
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_ids(4));
  client.stop();
  EXPECT_TRUE(DeliveredExactlyOnceInOrder(rec.ids(), {1, 2, 3, 4}));
  EXPECT_EQ(client.metrics().duplicates_dropped, 3u);
  EXPECT_EQ(client.metrics().reconnects, 0u);
}

// A server that completes every handshake, says caught_up, and closes at once: the
// connection never stays up `stable_after`, so the backoff must keep growing instead of
// restarting from backoff_initial on every successful connect.
TEST_F(MisbehavingServer, ServerClosingRightAfterCaughtUpSeesGrowingReconnectDelays) {
  ScriptedWsServer server([](std::size_t) {
    return std::vector<ScriptedFrame>{ScriptedFrame::text(welcome_json()), ScriptedFrame::text(caught_up_json(0)),
                                      ScriptedFrame::close(1000)};
  });
  auto o = client_options(server.url());
  o.backoff_initial = 10ms;
  o.backoff_max = 2000ms;
  Client client(std::move(o));
  Recorder rec;
  rec.attach(client);
  client.start();
  constexpr std::size_t kDelays = 8;
  ASSERT_TRUE(rec.wait([](const Recording& s) { return s.reconnect_delays().size() >= kDelays; }, 30s));
  client.stop();
  const auto d = rec.snapshot().reconnect_delays();
  std::string all;
  for (auto x : d) all += std::to_string(x.count()) + " ";
  EXPECT_GT(mean_ms(d, 5, 7), mean_ms(d, 0, 1) + 20.0) << "delays (ms): " << all;
  EXPECT_GE(client.metrics().connects, kDelays);
}

TEST_F(MisbehavingServer, UpgradeWithoutTheHeraldSubprotocolIsRefusedAndRetried) {
  ScriptedWsServer server(
      [](std::size_t) {
        return std::vector<ScriptedFrame>{ScriptedFrame::text(welcome_json()), ScriptedFrame::text(caught_up_json(0)),
                                          ScriptedFrame::text(notification_json(1))};
      },
      /*subprotocol=*/"");
  Client client(client_options(server.url()));
  Recorder rec;
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_state(State::reconnecting, 2));
  client.stop();
  const auto seen = rec.snapshot();
  EXPECT_TRUE(seen.notifications.empty()) << "delivered over a connection without herald.v1";
  EXPECT_EQ(client.metrics().connects, 0u);
  const auto it = std::find_if(seen.states.begin(), seen.states.end(),
                               [](const StateEvent& e) { return e.state == State::reconnecting; });
  ASSERT_NE(it, seen.states.end());
  EXPECT_EQ(it->reason, make_error_code(errc::protocol_violation)) << it->reason.message() << " / " << it->detail;
}

// The server must send welcome first. A notification before it is a protocol error
// (the client cannot know the session's resume status yet): never delivered.
TEST_F(MisbehavingServer, NotificationBeforeWelcomeIsNotDelivered) {
  ScriptedWsServer server([](std::size_t n) {
    if (n == 0) {
      return std::vector<ScriptedFrame>{ScriptedFrame::text(notification_json(1, R"({"early":1})")),
                                        ScriptedFrame::text(welcome_json()), ScriptedFrame::text(caught_up_json(0))};
    }
    return std::vector<ScriptedFrame>{ScriptedFrame::text(welcome_json()), ScriptedFrame::text(caught_up_json(0)),
                                      ScriptedFrame::text(notification_json(1, R"({"ok":1})")),
                                      ScriptedFrame::text(notification_json(2, R"({"ok":2})"))};
  });
  Client client(client_options(server.url()));
  Recorder rec;
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_ids(2, 20s));
  client.stop();
  const auto seen = rec.snapshot();
  EXPECT_TRUE(DeliveredExactlyOnceInOrder(seen.ids(), {1, 2}));
  for (const auto& n : seen.notifications) EXPECT_TRUE(n.data().contains("ok")) << n.data_json;
}

struct CloseCase {
  const char* name;
  std::uint16_t code;
  bool permanent;              ///< the client must stop and not retry
  std::optional<errc> reason;  ///< the reason of the first reconnecting/stopped event, when fixed
};

class CloseCode : public ChaosTest, public ::testing::WithParamInterface<CloseCase> {};

// Connection 0 is closed by the server with the code right after notification 1; later
// connections serve notification 2. The reaction follows the protocol's close-code table.
TEST_P(CloseCode, GetsTheReactionOfTheProtocolTable) {
  const auto param = GetParam();
  ScriptedWsServer server([code = param.code](std::size_t n) {
    std::vector<ScriptedFrame> f{ScriptedFrame::text(welcome_json()), ScriptedFrame::text(caught_up_json(0)),
                                 ScriptedFrame::text(notification_json(n == 0 ? 1 : 2))};
    if (n == 0) f.push_back(ScriptedFrame::close(code));
    return f;
  });
  Client client(client_options(server.url()));
  Recorder rec;
  rec.attach(client);
  client.start();
  if (param.permanent) {
    ASSERT_TRUE(rec.wait_state(State::stopped));
    EXPECT_TRUE(DeliveredExactlyOnceInOrder(rec.ids(), {1}));
    EXPECT_EQ(server.connections(), 1u) << "retried after a permanent close";
  } else {
    ASSERT_TRUE(rec.wait_ids(2));
    EXPECT_TRUE(DeliveredExactlyOnceInOrder(rec.ids(), {1, 2}));
    EXPECT_EQ(client.metrics().reconnects, 1u);
  }
  const auto seen = rec.snapshot();
  const auto it = std::find_if(seen.states.begin(), seen.states.end(), [](const StateEvent& e) {
    return e.state == State::reconnecting || e.state == State::stopped;
  });
  ASSERT_NE(it, seen.states.end());
  EXPECT_EQ(it->state, param.permanent ? State::stopped : State::reconnecting);
  if (param.reason) {
    EXPECT_EQ(it->reason, make_error_code(*param.reason)) << it->reason.message() << " / " << it->detail;
  }
  client.stop();
}

INSTANTIATE_TEST_SUITE_P(Codes, CloseCode,
                         ::testing::Values(CloseCase{"normal_1000", 1000, false, errc::closed_by_server},
                                           CloseCase{"going_away_1001", 1001, false, errc::closed_by_server},
                                           CloseCase{"too_big_1009", 1009, false, errc::closed_by_server},
                                           CloseCase{"token_expired_4001", 4001, false, errc::token_expired},
                                           CloseCase{"revoked_4003", 4003, true, errc::auth_failed},
                                           CloseCase{"protocol_error_4004", 4004, false, std::nullopt},
                                           CloseCase{"slow_consumer_4008", 4008, false, errc::closed_by_server},
                                           CloseCase{"no_auth_frame_4401", 4401, false, std::nullopt}),
                         [](const ::testing::TestParamInfo<CloseCase>& i) { return std::string(i.param.name); });

}  // namespace
}  // namespace herald::test
