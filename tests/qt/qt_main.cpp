// main() of the Qt test executables: a Q(Core)Application on the main thread (the thread
// the tests' QObjects live in), headless, then GoogleTest.
#include <gtest/gtest.h>

#include <QLoggingCategory>
#include <QtGlobal>

#ifdef HERALD_QT_WIDGETS
#include <QApplication>
using App = QApplication;
#else
#include <QCoreApplication>
using App = QCoreApplication;
#endif

int main(int argc, char** argv) {
  // Also when ctest's ENVIRONMENT does not apply (test discovery at build time).
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QLoggingCategory::setFilterRules(QStringLiteral("herald.sdk.info=false"));
  App app(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
