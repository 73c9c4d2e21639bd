// Backoff: capped exponential, full (or half) jitter, cap first and jitter second. The scripted
// random source lets every test assert exact delays.
#include "lifecycle/backoff.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>

#include "scripted_random.hpp"

namespace herald::test {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;

struct BackoffTest : ::testing::Test {
  std::shared_ptr<ScriptedRandom> random = std::make_shared<ScriptedRandom>();
  detail::Backoff backoff{500ms, 30'000ms, source_of(random)};
};

TEST_F(BackoffTest, CeilingsDoubleFromBaseUntilTheCap) {
  for (int i = 0; i < 10; ++i) (void)backoff.next();
  EXPECT_THAT(random->uppers(), ElementsAre(500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000));
}

TEST_F(BackoffTest, DelayIsExactlyWhatTheSourceDrewBelowTheCeiling) {
  random->script({0, 999, 1234, 7});
  EXPECT_EQ(backoff.next(), 0ms);
  EXPECT_EQ(backoff.next(), 999ms);
  EXPECT_EQ(backoff.next(), 1234ms);
  EXPECT_EQ(backoff.next(), 7ms);
  EXPECT_THAT(random->uppers(), ElementsAre(500, 1000, 2000, 4000));
}

TEST_F(BackoffTest, CeilingReportsWhatTheNextDrawUses) {
  EXPECT_EQ(backoff.ceiling(), 500ms);
  (void)backoff.next();
  EXPECT_EQ(backoff.ceiling(), 1000ms);
  EXPECT_EQ(backoff.attempts(), 1u);
}

TEST_F(BackoffTest, CapIsAppliedBeforeJitterSoTheSourceNeverSeesMoreThanTheCap) {
  for (int i = 0; i < 6; ++i) (void)backoff.next();  // ceilings up to 16000
  random->clear_uppers();
  random->script({29'999});
  EXPECT_EQ(backoff.next(), 29'999ms);  // 500 * 2^6 = 32000 is capped to 30000 first
  EXPECT_THAT(random->uppers(), ElementsAre(30'000));
}

TEST_F(BackoffTest, ResetStartsOverFromTheBase) {
  for (int i = 0; i < 5; ++i) (void)backoff.next();
  backoff.reset();
  EXPECT_EQ(backoff.attempts(), 0u);
  random->clear_uppers();
  (void)backoff.next();
  (void)backoff.next();
  EXPECT_THAT(random->uppers(), ElementsAre(500, 1000));
}

TEST_F(BackoffTest, SourceAnsweringAboveUpperIsClampedToTheCeiling) {
  random->script({std::numeric_limits<std::uint64_t>::max(), 5000});
  EXPECT_EQ(backoff.next(), 500ms);
  EXPECT_EQ(backoff.next(), 1000ms);
}

TEST_F(BackoffTest, HugeAttemptCountsNeitherOverflowNorLeaveTheCap) {
  for (int i = 0; i < 100'000; ++i) {
    const auto d = backoff.next();
    ASSERT_GE(d.count(), 0);
    ASSERT_LE(d, 30'000ms);
  }
  EXPECT_EQ(backoff.ceiling(), 30'000ms);
  EXPECT_EQ(random->uppers().back(), 30'000u);
}

// "No cap" spelled milliseconds::max() is accepted by ClientOptions validation; doubling
// 500 ms must stop at the cap instead of overflowing the signed count (after ~54 doublings).
TEST(BackoffLimits, HugeCapDoesNotOverflowWhileDoubling) {
  auto random = std::make_shared<ScriptedRandom>();
  const auto cap = std::chrono::milliseconds::max();
  detail::Backoff b{500ms, cap, source_of(random)};
  for (int i = 0; i < 200; ++i) {
    const auto d = b.next();
    ASSERT_GE(d.count(), 0) << "attempt " << i;
    ASSERT_LE(d, cap) << "attempt " << i;
  }
  for (std::size_t i = 1; i < random->uppers().size(); ++i) {
    ASSERT_GE(random->uppers()[i], random->uppers()[i - 1]) << "ceilings must never shrink (overflow)";
  }
}

TEST(BackoffLimits, ZeroBaseIsRaisedToOneMillisecondAndCapBelowBaseIsRaisedToBase) {
  auto random = std::make_shared<ScriptedRandom>();
  detail::Backoff b{0ms, 0ms, source_of(random)};
  (void)b.next();
  (void)b.next();
  EXPECT_THAT(random->uppers(), ElementsAre(1, 1));
}

TEST(BackoffJitter, HalfJitterDrawsInTheUpperHalfOfTheCeiling) {
  auto random = std::make_shared<ScriptedRandom>();
  detail::Backoff b{500ms, 2'000ms, source_of(random), detail::Jitter::half};
  random->script({0, 100, 2'000});
  EXPECT_EQ(b.next(), 250ms);    // 250 + 0
  EXPECT_EQ(b.next(), 600ms);    // 500 + 100
  EXPECT_EQ(b.next(), 2'000ms);  // 1000 + 1000: an answer above upper is clamped
  EXPECT_EQ(b.next(), 2'000ms);  // the cap; unscripted answers are the upper
  EXPECT_THAT(random->uppers(), ElementsAre(250, 500, 1000, 1000));
}

TEST(BackoffJitter, NoJitterIsTheCeilingWithoutDrawing) {
  auto random = std::make_shared<ScriptedRandom>();
  detail::Backoff b{500ms, 30'000ms, source_of(random), detail::Jitter::none};
  EXPECT_EQ(b.next(), 500ms);
  EXPECT_EQ(b.next(), 1'000ms);
  EXPECT_TRUE(random->uppers().empty());
}

TEST(BackoffLimits, DefaultRandomSourceStaysWithinUpper) {
  auto source = detail::default_random_source();
  for (std::uint64_t upper : {0ull, 1ull, 500ull, 30'000ull}) {
    for (int i = 0; i < 200; ++i) ASSERT_LE(source(upper), upper);
  }
}

}  // namespace
}  // namespace herald::test
