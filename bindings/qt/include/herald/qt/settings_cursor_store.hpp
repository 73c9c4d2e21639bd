// herald::qt::SettingsCursorStore: the cursor kept in QSettings, next to the rest of
// the application's settings.
//
//   QCoreApplication::setOrganizationName("Example");
//   QCoreApplication::setApplicationName("Inbox");
//   opts.cursorStore = std::make_shared<herald::qt::SettingsCursorStore>("herald/cursor-alice");
//
// Threading: the SDK calls the store on its I/O thread, and the Qt binding once more
// on the Client's thread after the SDK client stopped. Every call opens a QSettings of
// its own (QSettings is reentrant: distinct instances on distinct threads are safe, also
// on the same file) under a mutex of the store, so no QSettings instance is shared
// between threads.
//
// Writes are buffered: save() only records the id; flush() (the SDK calls it every
// ClientOptions::sdk.cursor_flush_interval, 1 s by default, and on stop) writes it and
// syncs the file. After a crash of the process the application may be handed again the
// notifications of that last interval (at least once); a clean stop loses nothing.
#pragma once

#include <QSettings>
#include <QString>
#include <cstdint>
#include <mutex>
#include <optional>

#include "herald/cursor_store.hpp"
#include "herald/qt/export.hpp"

namespace herald::qt {

class HERALD_QT_API SettingsCursorStore final : public herald::CursorStore {
 public:
  /// The application's QSettings (user scope, QCoreApplication's organization and
  /// application name, read when the store is constructed), value `key`.
  explicit SettingsCursorStore(QString key = QStringLiteral("herald/cursor"));
  /// A settings file of its own, e.g. (path, QSettings::IniFormat, "herald/cursor").
  SettingsCursorStore(QString file_name, QSettings::Format format, QString key);
  /// Writes a pending save().
  ~SettingsCursorStore() override;
  SettingsCursorStore(const SettingsCursorStore&) = delete;
  SettingsCursorStore& operator=(const SettingsCursorStore&) = delete;

  /// The stored cursor, or nullopt when the key is absent. The value is "<id>" or
  /// "<id> <epoch>" (one string, so the two are written together). Throws
  /// std::runtime_error when it is neither or the settings cannot be read.
  std::optional<herald::Cursor> load() override;
  /// Records `cursor`; written by the next flush().
  void save(const herald::Cursor& cursor) override;
  /// Writes the recorded id and syncs. Throws std::runtime_error when that fails.
  void flush() override;

 private:
  void write_locked();

  QString key_;
  // Either a file (file_name_ non-empty) or the application's settings (organization_, application_).
  QString file_name_;
  QSettings::Format format_ = QSettings::NativeFormat;
  QString organization_;
  QString application_;
  std::mutex mutex_;
  std::optional<herald::Cursor> pending_;
};

}  // namespace herald::qt
