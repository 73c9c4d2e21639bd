// RetryBudget: max_attempts and max_elapsed on their own, with an injected time.
#include "lifecycle/retry_budget.hpp"

#include <gtest/gtest.h>

namespace herald::test {
namespace {

using namespace std::chrono_literals;
using detail::RetryBudget;

const RetryBudget::Time t0{};

TEST(RetryBudgetTest, WithoutLimitsItIsNeverExhausted) {
  RetryBudget budget{0, 0ms};
  for (int i = 0; i < 1000; ++i) budget.record_failure(t0 + std::chrono::hours{i});
  EXPECT_FALSE(budget.exhausted(t0 + std::chrono::hours{10'000}));
  EXPECT_EQ(budget.failures(), 1000u);
}

TEST(RetryBudgetTest, MaxAttemptsIsReachedAtThatManyFailures) {
  RetryBudget budget{3, 0ms};
  budget.record_failure(t0);
  budget.record_failure(t0);
  EXPECT_FALSE(budget.exhausted(t0));
  budget.record_failure(t0);
  EXPECT_TRUE(budget.exhausted(t0));
}

TEST(RetryBudgetTest, MaxElapsedCountsFromTheFirstFailure) {
  RetryBudget budget{0, 10s};
  EXPECT_FALSE(budget.exhausted(t0 + 1h)) << "no failure yet: no run";
  budget.record_failure(t0 + 5s);
  budget.record_failure(t0 + 12s);  // does not restart the clock
  EXPECT_FALSE(budget.exhausted(t0 + 14'999ms));
  EXPECT_TRUE(budget.exhausted(t0 + 15s));
}

TEST(RetryBudgetTest, StartClockStartsTheRunWithoutCountingAFailure) {
  RetryBudget budget{1, 10s};
  budget.start_clock(t0);
  EXPECT_EQ(budget.failures(), 0u);
  EXPECT_FALSE(budget.exhausted(t0 + 9s));
  budget.start_clock(t0 + 9s);  // runs already: unchanged
  EXPECT_TRUE(budget.exhausted(t0 + 10s));
}

TEST(RetryBudgetTest, ResetEndsTheRun) {
  RetryBudget budget{2, 10s};
  budget.record_failure(t0);
  budget.record_failure(t0);
  ASSERT_TRUE(budget.exhausted(t0));
  budget.reset();
  EXPECT_EQ(budget.failures(), 0u);
  EXPECT_FALSE(budget.exhausted(t0 + 1h)) << "the clock stopped too";
  budget.record_failure(t0 + 1h);
  EXPECT_FALSE(budget.exhausted(t0 + 1h + 9s)) << "a new run counts from its own first failure";
  EXPECT_TRUE(budget.exhausted(t0 + 1h + 10s));
}

}  // namespace
}  // namespace herald::test
