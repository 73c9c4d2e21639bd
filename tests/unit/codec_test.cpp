// Decoder: every server message type, and every kind of malformed frame mapped to its
// typed DecodeError without a throw or a crash. Also encode_reauth and refusal_code.
#include "protocol/codec.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <variant>

namespace herald::detail::protocol {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// Decodes with a fresh default decoder; never lets an exception escape unnoticed.
DecodeResult decode(std::string_view frame) {
  Decoder d;
  DecodeResult r;
  EXPECT_NO_THROW(r = d.decode(frame));
  return r;
}

template <typename T>
T decode_as(std::string_view frame) {
  auto r = decode(frame);
  EXPECT_TRUE(r) << to_string(r.error) << " " << r.detail;
  const auto* m = std::get_if<T>(&r.message);
  EXPECT_NE(m, nullptr) << "decoded to another message type (index " << r.message.index() << ")";
  return m ? *m : T{};
}

DecodeError error_of(std::string_view frame) { return decode(frame).error; }

std::string nested(std::size_t depth, std::string_view open, std::string_view leaf, std::string_view close) {
  std::string s;
  s.reserve(depth * (open.size() + close.size()) + leaf.size());
  for (std::size_t i = 0; i < depth; ++i) s += open;
  s += leaf;
  for (std::size_t i = 0; i < depth; ++i) s += close;
  return s;
}

// ---- welcome -----------------------------------------------------------------------

TEST(DecodeWelcome, AllFields) {
  const auto w =
      decode_as<Welcome>(R"({"type":"welcome","session_id":"s-abc","user_id":"u1","protocol":1,"heartbeat_s":20,)"
                         R"("token_expires_at":1767225600,"features":["reauth","drain"],)"
                         R"("resume":{"status":"ok","from_id":41,"head_id":57}})");
  EXPECT_EQ(w.session_id, "s-abc");
  EXPECT_EQ(w.user_id, "u1");
  EXPECT_EQ(w.heartbeat_s, 20u);
  EXPECT_EQ(w.token_expires_at, 1767225600);
  EXPECT_THAT(w.features, ElementsAre("reauth", "drain"));
  EXPECT_EQ(w.resume, ResumeStatus::ok);
  EXPECT_EQ(w.from_id, 41u);
  EXPECT_EQ(w.head_id, 57u);
}

TEST(DecodeWelcome, EveryResumeStatus) {
  EXPECT_EQ(decode_as<Welcome>(R"({"type":"welcome","resume":{"status":"ok"}})").resume, ResumeStatus::ok);
  EXPECT_EQ(decode_as<Welcome>(R"({"type":"welcome","resume":{"status":"gap","from_id":9}})").resume,
            ResumeStatus::gap);
  EXPECT_EQ(decode_as<Welcome>(R"({"type":"welcome","resume":{"status":"fresh"}})").resume, ResumeStatus::fresh);
}

TEST(DecodeWelcome, MinimalWelcomeTakesTheDefaults) {
  const auto w = decode_as<Welcome>(R"({"type":"welcome"})");
  EXPECT_EQ(w.heartbeat_s, 25u);
  EXPECT_EQ(w.resume, ResumeStatus::fresh);
  EXPECT_FALSE(w.token_expires_at.has_value());
  EXPECT_FALSE(w.from_id.has_value());
  EXPECT_FALSE(w.head_id.has_value()) << "unknown, not 0: an absent head must not look like a reset";
  EXPECT_TRUE(w.epoch.empty());
  EXPECT_TRUE(w.features.empty());
}

TEST(DecodeWelcome, NullOptionalsAndUnknownMembersAndNonStringFeaturesAreIgnored) {
  const auto w = decode_as<Welcome>(
      R"({"type":"welcome","heartbeat_s":null,"token_expires_at":null,"future":{"x":[1,2]},)"
      R"("features":["reauth",7,null,{"a":1},"drain"],"resume":{"status":"gap","from_id":null,"head_id":3}})");
  EXPECT_EQ(w.heartbeat_s, 25u);
  EXPECT_FALSE(w.token_expires_at.has_value());
  EXPECT_THAT(w.features, ElementsAre("reauth", "drain"));
  EXPECT_FALSE(w.from_id.has_value());
  EXPECT_EQ(w.head_id, 3u);
}

TEST(DecodeWelcome, IllTypedMembersAreBadField) {
  for (
      const char* frame : {
          R"({"type":"welcome","session_id":5})",
          R"({"type":"welcome","user_id":["u"]})",
          R"({"type":"welcome","heartbeat_s":0})",
          R"({"type":"welcome","heartbeat_s":3601})",
          R"({"type":"welcome","heartbeat_s":"25"})",
          R"({"type":"welcome","heartbeat_s":-1})",
          R"({"type":"welcome","heartbeat_s":2.5})",
          R"({"type":"welcome","token_expires_at":"soon"})",
          R"({"type":"welcome","features":"reauth"})",
          R"({"type":"welcome","resume":{"status":"maybe"}})",
          R"({"type":"welcome","resume":{"from_id":3}})",
          R"({"type":"welcome","resume":{"status":"ok","from_id":-3}})",
          R"({"type":"welcome","resume":{"status":"ok","head_id":"57"}})",
          R"({"type":"welcome","resume":{"status":"gap","missed":-1}})",
          R"({"type":"welcome","resume":{"status":"ok","epoch":7}})",
          R"({"type":"welcome","resume":{"status":"ok","epoch":"has space"}})",
          R"({"type":"welcome","resume":{"status":"ok","epoch":"e-1\n2"}})",
          R"({"type":"welcome","resume":{"status":"ok","epoch":"ü"}})",
          R"({"type":"welcome","resume":{"status":"ok","epoch":"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"}})",
      }) {
    EXPECT_EQ(error_of(frame), DecodeError::bad_field) << frame;
  }
}

TEST(DecodeWelcome, TheEpochAndTheMissedCountAreRead) {
  const auto w = decode_as<Welcome>(
      R"({"type":"welcome","resume":{"status":"gap","from_id":40,"head_id":57,"missed":12,"epoch":"e-7f3a.B_:~"}})");
  EXPECT_EQ(w.epoch, "e-7f3a.B_:~");
  EXPECT_EQ(w.missed, 12u);
  const std::string longest(64, 'e');
  EXPECT_EQ(decode_as<Welcome>(R"({"type":"welcome","resume":{"status":"ok","epoch":")" + longest + R"("}})").epoch,
            longest);
  EXPECT_TRUE(decode_as<Welcome>(R"({"type":"welcome","resume":{"status":"ok","epoch":""}})").epoch.empty())
      << "an empty epoch is no epoch";
}

TEST(DecodeWelcome, HeartbeatBoundsAreInclusive) {
  EXPECT_EQ(decode_as<Welcome>(R"({"type":"welcome","heartbeat_s":1})").heartbeat_s, 1u);
  EXPECT_EQ(decode_as<Welcome>(R"({"type":"welcome","heartbeat_s":3600})").heartbeat_s, 3600u);
}

// ---- notification ------------------------------------------------------------------

TEST(DecodeNotification, WithData) {
  const auto n = decode_as<Notification>(
      R"({"type":"notification","id":42,"created_at":"2026-11-27T10:00:00.123Z","topic":"comment",)"
      R"("data":{"text":"hi","n":[1,2,3]},"unknown_member":true})");
  EXPECT_EQ(n.id, 42u);
  EXPECT_EQ(n.topic, "comment");
  EXPECT_EQ(n.created_at, "2026-11-27T10:00:00.123Z");
  const auto data = n.data();
  ASSERT_TRUE(data.is_object());
  EXPECT_EQ(data["text"], "hi");
  EXPECT_EQ(data["n"], nlohmann::json::array({1, 2, 3}));
}

TEST(DecodeNotification, WithoutDataHasAnEmptyObject) {
  const auto n = decode_as<Notification>(R"({"type":"notification","id":1})");
  EXPECT_EQ(n.data_json, "{}");
  EXPECT_EQ(n.data(), nlohmann::json::object());
  EXPECT_EQ(n.topic, "");
  EXPECT_EQ(n.created_at, "");
}

TEST(DecodeNotification, DataRoundTripsThroughDataJson) {
  const char* data = R"({"s":"a \"quoted\" \\ back\nslash\t\u0001 caf\u00e9 \ud83d\ude00","i":-9223372036854775808,)"
                     R"("u":18446744073709551615,"f":0.1,"e":1.5e300,"neg":-2.25,"b":[true,false,null],)"
                     R"("o":{"nested":{"deeper":[{},[]]}},"empty":"","k with space":1})";
  const std::string frame = std::string(R"({"type":"notification","id":7,"data":)") + data + "}";
  const auto n = decode_as<Notification>(frame);
  const auto expected = nlohmann::json::parse(data);
  EXPECT_EQ(nlohmann::json::parse(n.data_json), expected) << n.data_json;
  EXPECT_EQ(n.data(), expected);
}

// RFC 8259 sets no limit on integer size, and nlohmann (server side) accepts such
// numbers. Calling this frame "not JSON" makes it a poison pill: 4004, reconnect, the
// server replays the same notification, forever, and nothing after it is delivered.
TEST(DecodeNotification, DataWithAnIntegerBeyond64BitsIsStillJson) {
  const auto r = decode(R"({"type":"notification","id":5,"data":{"n":123456789012345678901234567890}})");
  EXPECT_NE(r.error, DecodeError::not_json) << r.detail;
}

TEST(DecodeNotification, IdBoundaries) {
  EXPECT_EQ(decode_as<Notification>(R"({"type":"notification","id":1})").id, 1u);
  EXPECT_EQ(decode_as<Notification>(R"({"type":"notification","id":9007199254740991})").id, kMaxId);
}

TEST(DecodeNotification, InvalidIdsAreBadField) {
  for (const char* frame : {
           R"({"type":"notification"})",
           R"({"type":"notification","id":"42"})",
           R"({"type":"notification","id":-1})",
           R"({"type":"notification","id":0})",
           R"({"type":"notification","id":1.5})",
           R"({"type":"notification","id":42.0})",
           R"({"type":"notification","id":4.2e1})",
           R"({"type":"notification","id":9007199254740992})",
           R"({"type":"notification","id":18446744073709551615})",
           R"({"type":"notification","id":null})",
           R"({"type":"notification","id":true})",
           R"({"type":"notification","id":[1]})",
       }) {
    const auto r = decode(frame);
    EXPECT_EQ(r.error, DecodeError::bad_field) << frame;
    EXPECT_EQ(r.detail, "notification.id") << frame;
  }
}

TEST(DecodeNotification, NonObjectDataIsBadField) {
  for (const char* data : {"null", "[]", "[1]", "\"text\"", "5", "true"}) {
    const auto frame = std::string(R"({"type":"notification","id":1,"data":)") + data + "}";
    const auto r = decode(frame);
    EXPECT_EQ(r.error, DecodeError::bad_field) << frame;
    EXPECT_EQ(r.detail, "notification.data") << frame;
  }
}

TEST(DecodeNotification, IllTypedTopicOrCreatedAtIsBadField) {
  EXPECT_EQ(error_of(R"({"type":"notification","id":1,"topic":5})"), DecodeError::bad_field);
  EXPECT_EQ(error_of(R"({"type":"notification","id":1,"created_at":1767225600})"), DecodeError::bad_field);
}

TEST(DecodeNotification, DetailNeverRepeatsFrameContent) {
  const auto r = decode(R"({"type":"notification","id":"SECRET-VALUE-123"})");
  EXPECT_FALSE(r);
  EXPECT_THAT(r.detail, Not(HasSubstr("SECRET")));
  const auto j = decode("{\"type\":\"SECRET-VALUE-123\" garbage");
  EXPECT_FALSE(j);
  EXPECT_THAT(j.detail, Not(HasSubstr("SECRET")));
}

// ---- the other message types -------------------------------------------------------

TEST(DecodeOtherTypes, CaughtUp) {
  EXPECT_EQ(decode_as<CaughtUp>(R"({"type":"caught_up","head_id":57})").head_id, 57u);
  EXPECT_EQ(decode_as<CaughtUp>(R"({"type":"caught_up"})").head_id, 0u);
  EXPECT_EQ(error_of(R"({"type":"caught_up","head_id":"57"})"), DecodeError::bad_field);
}

TEST(DecodeOtherTypes, ReauthOk) {
  EXPECT_EQ(decode_as<ReauthOk>(R"({"type":"reauth_ok","expires_at":1767229200})").expires_at, 1767229200);
  EXPECT_EQ(error_of(R"({"type":"reauth_ok"})"), DecodeError::bad_field);
  EXPECT_EQ(error_of(R"({"type":"reauth_ok","expires_at":"later"})"), DecodeError::bad_field);
}

TEST(DecodeOtherTypes, Drain) {
  using std::chrono::milliseconds;
  EXPECT_EQ(decode_as<Drain>(R"({"type":"drain","reconnect_within_ms":30000})").reconnect_within, milliseconds{30000});
  EXPECT_EQ(decode_as<Drain>(R"({"type":"drain","reconnect_within_ms":0})").reconnect_within, milliseconds{0});
  EXPECT_EQ(decode_as<Drain>(R"({"type":"drain","reconnect_within_ms":86400000})").reconnect_within,
            milliseconds{86'400'000});
  EXPECT_EQ(error_of(R"({"type":"drain"})"), DecodeError::bad_field);
  EXPECT_EQ(error_of(R"({"type":"drain","reconnect_within_ms":-1})"), DecodeError::bad_field);
  EXPECT_EQ(error_of(R"({"type":"drain","reconnect_within_ms":86400001})"), DecodeError::bad_field);
  EXPECT_EQ(error_of(R"({"type":"drain","reconnect_within_ms":"30000"})"), DecodeError::bad_field);
}

TEST(DecodeOtherTypes, ServerError) {
  const auto e = decode_as<ServerError>(R"({"type":"error","code":"forbidden","message":"no access"})");
  EXPECT_EQ(e.code, "forbidden");
  EXPECT_EQ(e.message, "no access");
  EXPECT_EQ(decode_as<ServerError>(R"({"type":"error"})").code, "");
  EXPECT_EQ(error_of(R"({"type":"error","code":403})"), DecodeError::bad_field);
  EXPECT_EQ(error_of(R"({"type":"error","message":{}})"), DecodeError::bad_field);
}

TEST(DecodeOtherTypes, UnknownTypeIsUnknownForForwardCompatibility) {
  EXPECT_EQ(decode_as<Unknown>(R"({"type":"presence","whatever":[1,{"x":null}]})").type, "presence");
  EXPECT_EQ(decode_as<Unknown>(R"({"type":""})").type, "");
  EXPECT_EQ(decode_as<Unknown>(R"({"type":"Notification","id":"x"})").type, "Notification");  // case matters
}

// ---- malformed frames --------------------------------------------------------------

TEST(DecodeMalformed, NotJson) {
  using namespace std::string_literals;
  for (const std::string& frame : {
           ""s,
           " "s,
           "\n\t "s,
           "hello"s,
           "{"s,
           "}"s,
           R"({"type":"notification","id":1)"s,
           R"({"type":"notification","id":1,"data":{"a":[1,2)"s,
           R"({"type":)"s,
           R"({"type" "x"})"s,
           R"({'type':'x'})"s,
           R"({"type":"x",})"s,
           R"({"type":"x"} trailing)"s,
           R"({}{})"s,
           "{\"type\":\"x\0\"}"s,
           "\0"s,
           R"({"type":"x","n":01})"s,
           R"({"type":"x","n":NaN})"s,
           R"({"type":"x","s":"unterminated})"s,
           "{\"type\":\"x\",\"s\":\"raw\ncontrol\"}"s,
           R"({"type":"x","s":"\q"})"s,
           R"({"type":"x","s":"\u12"})"s,
       }) {
    EXPECT_EQ(error_of(frame), DecodeError::not_json) << testing::PrintToString(frame);
  }
}

TEST(DecodeMalformed, InvalidUtf8IsNotJson) {
  using namespace std::string_literals;
  for (const std::string& frame : {
           "{\"type\":\"x\xff\"}"s,         // 0xFF never appears in UTF-8
           "{\"type\":\"x\xc3\"}"s,         // truncated 2-byte sequence
           "{\"type\":\"\xc0\xaf\"}"s,      // overlong encoding of '/'
           "{\"type\":\"\xed\xa0\x80\"}"s,  // UTF-16 surrogate encoded in UTF-8
           "{\"type\":\"notification\",\"id\":1,\"data\":{\"k\":\"\xf4\x90\x80\x80\"}}"s,  // > U+10FFFF
           "{\"t\xe2\x82\":1}"s,  // truncated 3-byte sequence in a key
       }) {
    EXPECT_EQ(error_of(frame), DecodeError::not_json) << testing::PrintToString(frame);
  }
}

TEST(DecodeMalformed, NonObjectRootsAreNotObject) {
  for (const char* frame : {"[]", R"([{"type":"welcome"}])", R"("welcome")", "42", "-1.5", "true", "null"}) {
    EXPECT_EQ(error_of(frame), DecodeError::not_object) << frame;
  }
}

TEST(DecodeMalformed, MissingOrNonStringTypeIsMissingType) {
  for (const char* frame :
       {"{}", R"({"Type":"welcome"})", R"({"type":null})", R"({"type":1})", R"({"type":["welcome"]})",
        R"({"type":{"name":"welcome"}})", R"({"kind":"notification","id":1})"}) {
    EXPECT_EQ(error_of(frame), DecodeError::missing_type) << frame;
  }
}

TEST(DecodeMalformed, FrameLongerThanTheMaximumIsTooLarge) {
  Decoder d(1024);
  std::string frame = R"({"type":"notification","id":1,"data":{"s":")";
  frame += std::string(1024 - frame.size() - 3, 'x') + "\"}}";
  ASSERT_EQ(frame.size(), 1024u);
  EXPECT_TRUE(d.decode(frame)) << "a frame of exactly max_frame_bytes is accepted";
  frame.insert(frame.size() - 3, "y");
  EXPECT_EQ(d.decode(frame).error, DecodeError::too_large);
}

TEST(DecodeMalformed, TwoMebibyteFrameIsTooLargeForTheDefaultAndFineForABiggerLimit) {
  const std::string payload(2u << 20, 'p');
  const std::string frame = R"({"type":"notification","id":3,"data":{"blob":")" + payload + "\"}}";
  EXPECT_EQ(decode(frame).error, DecodeError::too_large);

  Decoder big(4u << 20);
  auto r = big.decode(frame);
  ASSERT_TRUE(r) << to_string(r.error);
  const auto& n = std::get<Notification>(r.message);
  EXPECT_EQ(n.data()["blob"].get<std::string>().size(), payload.size());
  // The decoder keeps working (and reuses its buffers) for small frames afterwards.
  EXPECT_EQ(std::get<Notification>(big.decode(R"({"type":"notification","id":4})").message).id, 4u);
}

TEST(DecodeMalformed, HundredThousandOpenBracketsAreTooDeep) {
  EXPECT_EQ(error_of(nested(100'000, "[", "1", "]")), DecodeError::too_deep);
  // Unclosed, it is not JSON either; simdjson's structural pass reports that first.
  const auto unclosed = error_of(std::string(100'000, '['));
  EXPECT_TRUE(unclosed == DecodeError::too_deep || unclosed == DecodeError::not_json) << to_string(unclosed);
}

TEST(DecodeMalformed, DeeplyNestedDataIsTooDeep) {
  const auto frame = R"({"type":"notification","id":1,"data":)" + nested(100'000, R"({"a":)", "1", "}") + "}";
  EXPECT_EQ(error_of(frame), DecodeError::too_deep);
  const auto unclosed = R"({"type":"notification","id":1,"data":)" + nested(100'000, R"({"a":)", "", "");
  const auto e = error_of(unclosed);
  EXPECT_TRUE(e == DecodeError::too_deep || e == DecodeError::not_json) << to_string(e);
}

TEST(DecodeMalformed, NestingUpToTheMaximumDepthIsAccepted) {
  // The envelope is level 1; data adds `levels` more.
  auto frame_with_data_depth = [](std::size_t levels) {
    return R"({"type":"notification","id":1,"data":)" + nested(levels - 1, R"({"a":)", "{}", "}") + "}";
  };
  const auto ok = decode(frame_with_data_depth(Decoder::kDefaultMaxDepth - 1));
  ASSERT_TRUE(ok) << to_string(ok.error);
  EXPECT_FALSE(std::get<Notification>(ok.message).data().is_discarded());
  EXPECT_EQ(error_of(frame_with_data_depth(Decoder::kDefaultMaxDepth + 1)), DecodeError::too_deep);
}

TEST(DecodeMalformed, DepthLimitHoldsForFramesBiggerThanTheInitialBuffer) {
  // The decoder starts with a small buffer and grows it; the depth limit must survive.
  Decoder d;
  const std::string padding(64 * 1024, ' ');
  const auto frame = padding + R"({"type":"notification","id":1,"data":)" + nested(200, R"({"a":)", "1", "}") + "}";
  EXPECT_EQ(d.decode(frame).error, DecodeError::too_deep);
}

TEST(DecodeMalformed, DecoderStaysUsableAfterErrors) {
  Decoder d;
  EXPECT_EQ(d.decode(nested(100'000, "[", "1", "]")).error, DecodeError::too_deep);
  EXPECT_EQ(d.decode("{").error, DecodeError::not_json);
  EXPECT_EQ(d.decode("[]").error, DecodeError::not_object);
  const auto r = d.decode(R"({"type":"caught_up","head_id":9})");
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<CaughtUp>(r.message).head_id, 9u);
}

TEST(DecodeMalformed, ErrorsHaveNames) {
  for (auto e : {DecodeError::none, DecodeError::too_large, DecodeError::not_json, DecodeError::too_deep,
                 DecodeError::not_object, DecodeError::missing_type, DecodeError::bad_field}) {
    EXPECT_STRNE(to_string(e), "unknown");
  }
}

// ---- client frames and refusals ----------------------------------------------------

TEST(EncodeReauth, IsTheDocumentedObject) {
  const auto j = nlohmann::json::parse(encode_reauth("eyJ.a\"b\\c.sig"));
  EXPECT_EQ(j, (nlohmann::json{{"type", "reauth"}, {"token", "eyJ.a\"b\\c.sig"}}));
}

// A token is an opaque string from the application's provider; encoding it must not
// throw on the I/O thread whatever bytes it holds (style.md 4).
TEST(EncodeReauth, DoesNotThrowOnATokenThatIsNotUtf8) {
  std::string frame;
  EXPECT_NO_THROW(frame = encode_reauth("abc\xff\xfe"));
}

TEST(RefusalCode, ReadsTheErrorMember) {
  EXPECT_EQ(refusal_code(R"({"error":"token_expired"})"), "token_expired");
  EXPECT_EQ(refusal_code(R"({"error":"invalid_token","detail":"x"})"), "invalid_token");
}

TEST(RefusalCode, AnythingElseIsEmpty) {
  EXPECT_EQ(refusal_code(""), "");
  EXPECT_EQ(refusal_code("Unauthorized"), "");
  EXPECT_EQ(refusal_code("<html>401</html>"), "");
  EXPECT_EQ(refusal_code(R"(["token_expired"])"), "");
  EXPECT_EQ(refusal_code(R"({"error":401})"), "");
  EXPECT_EQ(refusal_code(R"({"code":"token_expired"})"), "");
  EXPECT_EQ(refusal_code(std::string(100'000, '[')), "");
  EXPECT_EQ(refusal_code(R"({"error":"token_expired","pad":")" + std::string(5000, 'x') + "\"}"), "");
}

}  // namespace
}  // namespace herald::detail::protocol
