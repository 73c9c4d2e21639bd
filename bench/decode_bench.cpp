// herald_decode_bench: what decoding one ~200-byte notification frame costs.
//
//   herald decode        protocol::Decoder::decode, what the SDK does per frame
//   herald decode+data() the same, then Notification::data() (the app reads the payload)
//   simdjson parse only  validation on a reused parser, no field read: the floor
//   nlohmann DOM         json::parse, read the envelope, keep `data` as a json (naive client)
//   QJsonDocument        fromJson, read the envelope, keep `data` as a QJsonObject (Qt 6)
//
// Every variant decodes the same frames; each is timed over all of them several times
// and the best run is reported (the machine may be shared). Heap allocations are counted
// in a separate, untimed pass by the replaced global operator new below.
//
// Usage: herald_decode_bench [frames=100000] [runs=7]

#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <new>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "protocol/codec.hpp"

#ifdef HERALD_BENCH_QT
#include <QByteArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonValue>
#include <QLatin1String>
#include <QString>
#endif

// ---- counting global operator new/delete --------------------------------------------

namespace {
std::atomic<bool> g_counting{false};
std::atomic<std::uint64_t> g_allocs{0};
std::atomic<std::uint64_t> g_alloc_bytes{0};

void* counted_alloc(std::size_t size, std::size_t align) {
  if (g_counting.load(std::memory_order_relaxed)) {
    g_allocs.fetch_add(1, std::memory_order_relaxed);
    g_alloc_bytes.fetch_add(size, std::memory_order_relaxed);
  }
  if (size == 0) size = 1;
  void* p = nullptr;
  if (align <= alignof(std::max_align_t)) {
    p = std::malloc(size);
  } else if (posix_memalign(&p, align, size) != 0) {
    p = nullptr;
  }
  return p;
}

void* counted_alloc_or_throw(std::size_t size, std::size_t align) {
  void* p = counted_alloc(size, align);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
}  // namespace

void* operator new(std::size_t n) { return counted_alloc_or_throw(n, 0); }
void* operator new[](std::size_t n) { return counted_alloc_or_throw(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) { return counted_alloc_or_throw(n, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t n, std::align_val_t a) {
  return counted_alloc_or_throw(n, static_cast<std::size_t>(a));
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n, 0); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n, 0); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_alloc(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_alloc(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

namespace {

namespace protocol = herald::detail::protocol;
using Clock = std::chrono::steady_clock;

// ---- frames ---------------------------------------------------------------------------

// Realistic notification frames of about 200 bytes, as herald-server sends them
// (compact JSON, envelope first), with varying ids, topics, texts and payloads.
std::vector<std::string> make_frames(std::size_t count) {
  static constexpr const char* kNames[] = {"Ada", "Grace", "Linus", "Barbara", "Ken", "Margaret", "Edsger", "Frances"};
  static constexpr const char* kTopics[] = {"comment", "like", "mention", "follow"};
  static constexpr const char* kVerbs[] = {"commented on your post", "liked your post", "mentioned you in a reply",
                                           "started following you"};
  std::vector<std::string> frames;
  frames.reserve(count);
  std::uint64_t rng = 0x9e3779b97f4a7c15ull;
  auto next = [&rng] {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
  };
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint64_t id = 1'000'000 + i;
    const std::size_t kind = next() % 4;
    const char* name = kNames[next() % 8];
    char ts[32];
    std::snprintf(ts, sizeof ts, "2026-11-27T%02u:%02u:%02u.%03uZ", static_cast<unsigned>(next() % 24),
                  static_cast<unsigned>(next() % 60), static_cast<unsigned>(next() % 60),
                  static_cast<unsigned>(next() % 1000));
    std::string text = std::string(name) + " " + kVerbs[kind];
    if (next() % 3 == 0) text += " \xe2\x80\x94 \"nice work!\"";  // non-ASCII (an em dash) and escapes
    std::string f;
    f.reserve(256);
    f += R"({"type":"notification","id":)";
    f += std::to_string(id);
    f += R"(,"created_at":")";
    f += ts;
    f += R"(","topic":")";
    f += kTopics[kind];
    f += R"(","data":{"text":)";
    f += nlohmann::json(text).dump();
    f += R"(,"post":)";
    f += std::to_string(10'000 + next() % 90'000);
    f += R"(,"actor":{"id":"u)";
    f += std::to_string(next() % 1000);
    f += R"(","name":")";
    f += name;
    f += R"("},"unread":)";
    f += (next() % 2) ? "true" : "false";
    f += "}}";
    frames.push_back(std::move(f));
  }
  return frames;
}

// ---- the variants -----------------------------------------------------------------------

// Each returns a checksum of what it read, so the optimiser keeps the work.
using Variant = std::function<std::uint64_t(std::string_view)>;

struct NaiveNotification {  // what a client without Herald keeps per notification
  std::uint64_t id = 0;
  std::string topic;
  std::string created_at;
  nlohmann::json data;
};

std::uint64_t herald_decode(protocol::Decoder& decoder, std::string_view frame) {
  auto r = decoder.decode(frame);
  const auto* n = r ? std::get_if<herald::Notification>(&r.message) : nullptr;
  if (n == nullptr) std::abort();
  return n->id + n->topic.size() + n->created_at.size() + n->data_json.size();
}

std::uint64_t herald_decode_data(protocol::Decoder& decoder, std::string_view frame) {
  auto r = decoder.decode(frame);
  const auto* n = r ? std::get_if<herald::Notification>(&r.message) : nullptr;
  if (n == nullptr) std::abort();
  const nlohmann::json data = n->data();
  return n->id + n->topic.size() + data.size();
}

std::uint64_t simdjson_only(simdjson::dom::parser& parser, std::string_view frame) {
  simdjson::dom::element root;
  if (parser.parse(frame.data(), frame.size()).get(root) != simdjson::SUCCESS) std::abort();
  return static_cast<std::uint64_t>(root.type());
}

std::uint64_t nlohmann_dom(std::string_view frame) {
  auto j = nlohmann::json::parse(frame, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) std::abort();
  const auto type = j.find("type");
  if (type == j.end() || !type->is_string() || type->get_ref<const std::string&>() != "notification") std::abort();
  NaiveNotification n;
  n.id = j.at("id").get<std::uint64_t>();
  n.topic = j.at("topic").get<std::string>();
  n.created_at = j.at("created_at").get<std::string>();
  n.data = std::move(j.at("data"));
  return n.id + n.topic.size() + n.created_at.size() + n.data.size();
}

#ifdef HERALD_BENCH_QT
std::uint64_t qt_json(std::string_view frame) {
  const auto bytes = QByteArray::fromRawData(frame.data(), static_cast<qsizetype>(frame.size()));
  QJsonParseError error{};
  const auto doc = QJsonDocument::fromJson(bytes, &error);
  if (error.error != QJsonParseError::NoError || !doc.isObject()) std::abort();
  const QJsonObject obj = doc.object();
  if (obj.value(QLatin1String("type")).toString() != QLatin1String("notification")) std::abort();
  const auto id = static_cast<std::uint64_t>(obj.value(QLatin1String("id")).toInteger());
  const QString topic = obj.value(QLatin1String("topic")).toString();
  const QString created_at = obj.value(QLatin1String("created_at")).toString();
  const QJsonObject data = obj.value(QLatin1String("data")).toObject();
  return id + static_cast<std::uint64_t>(topic.size() + created_at.size() + data.size());
}
#endif

// ---- measuring --------------------------------------------------------------------------

struct Result {
  const char* name;
  double best_ns = 0;    // per message, best run
  double median_ns = 0;  // per message, median run
  double allocs = 0;     // per message
  double alloc_bytes = 0;
  std::uint64_t checksum = 0;
};

Result measure(const char* name, const std::vector<std::string>& frames, int runs, const Variant& decode) {
  Result r{name};
  // Warm-up (buffers sized, caches and branch predictors trained), then count allocations.
  for (const auto& f : frames) r.checksum += decode(f);
  g_allocs = 0;
  g_alloc_bytes = 0;
  g_counting = true;
  for (const auto& f : frames) r.checksum += decode(f);
  g_counting = false;
  const auto n = static_cast<double>(frames.size());
  r.allocs = static_cast<double>(g_allocs.load()) / n;
  r.alloc_bytes = static_cast<double>(g_alloc_bytes.load()) / n;

  std::vector<double> per_msg;
  for (int run = 0; run < runs; ++run) {
    const auto t0 = Clock::now();
    for (const auto& f : frames) r.checksum += decode(f);
    const auto t1 = Clock::now();
    per_msg.push_back(static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()) / n);
  }
  std::sort(per_msg.begin(), per_msg.end());
  r.best_ns = per_msg.front();
  r.median_ns = per_msg[per_msg.size() / 2];
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t count = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100'000;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 7;
  if (count == 0 || runs <= 0) {
    std::fprintf(stderr, "usage: %s [frames>0] [runs>0]\n", argv[0]);
    return 2;
  }
  const auto frames = make_frames(count);
  std::size_t bytes = 0;
  for (const auto& f : frames) bytes += f.size();
  std::printf("%zu frames, %.0f bytes on average, best and median of %d runs", count,
              static_cast<double>(bytes) / static_cast<double>(count), runs);
#ifndef NDEBUG
  std::printf(" -- ASSERTIONS ON: not an optimised build, numbers are meaningless");
#endif
  std::printf("\nexample: %s\n\n", frames.front().c_str());

  protocol::Decoder decoder;
  simdjson::dom::parser parser;
  std::vector<Result> results;
  results.push_back(
      measure("herald Decoder::decode", frames, runs, [&](std::string_view f) { return herald_decode(decoder, f); }));
  results.push_back(measure("herald decode + data()", frames, runs,
                            [&](std::string_view f) { return herald_decode_data(decoder, f); }));
  results.push_back(measure("simdjson parse only (floor)", frames, runs,
                            [&](std::string_view f) { return simdjson_only(parser, f); }));
  results.push_back(measure("nlohmann::json DOM (naive)", frames, runs, nlohmann_dom));
#ifdef HERALD_BENCH_QT
  results.push_back(measure("QJsonDocument (Qt 6)", frames, runs, qt_json));
#endif

  std::printf("%-30s %10s %10s %12s %10s %12s\n", "variant", "ns/msg", "median", "msgs/s", "allocs/msg", "bytes/msg");
  std::uint64_t checksum = 0;
  for (const auto& r : results) {
    std::printf("%-30s %10.0f %10.0f %12.0f %10.1f %12.0f\n", r.name, r.best_ns, r.median_ns, 1e9 / r.best_ns, r.allocs,
                r.alloc_bytes);
    checksum ^= r.checksum;
  }
  std::printf("\nchecksum %llu\n", static_cast<unsigned long long>(checksum));
  return 0;
}
