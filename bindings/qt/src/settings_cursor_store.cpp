#include "herald/qt/settings_cursor_store.hpp"

#include <QCoreApplication>
#include <memory>
#include <stdexcept>

namespace herald::qt {
namespace {

std::string status_text(QSettings::Status s) {
  switch (s) {
    case QSettings::NoError:
      return "no error";
    case QSettings::AccessError:
      return "access error";
    case QSettings::FormatError:
      return "format error";
  }
  return "unknown error";
}

}  // namespace

SettingsCursorStore::SettingsCursorStore(QString key)
    : key_(std::move(key)),
      organization_(QCoreApplication::organizationName()),
      application_(QCoreApplication::applicationName()) {}

SettingsCursorStore::SettingsCursorStore(QString file_name, QSettings::Format format, QString key)
    : key_(std::move(key)), file_name_(std::move(file_name)), format_(format) {}

SettingsCursorStore::~SettingsCursorStore() {
  std::lock_guard lock(mutex_);
  try {
    write_locked();
  } catch (...) {  // a destructor must not throw; the SDK's flush() reported failures already
  }
}

std::optional<std::uint64_t> SettingsCursorStore::load() {
  std::lock_guard lock(mutex_);
  if (pending_) return pending_;
  const auto settings = file_name_.isEmpty() ? std::make_unique<QSettings>(organization_, application_)
                                             : std::make_unique<QSettings>(file_name_, format_);
  if (settings->status() != QSettings::NoError) {
    throw std::runtime_error("cannot read the cursor from " + settings->fileName().toStdString() + ": " +
                             status_text(settings->status()));
  }
  const QVariant v = settings->value(key_);
  if (!v.isValid()) return std::nullopt;
  bool ok = false;
  const qulonglong id = v.toString().toULongLong(&ok);
  if (!ok) {
    throw std::runtime_error("the cursor at '" + key_.toStdString() + "' in " + settings->fileName().toStdString() +
                             " is not an unsigned integer");
  }
  return std::uint64_t{id};
}

void SettingsCursorStore::save(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  pending_ = id;
}

void SettingsCursorStore::flush() {
  std::lock_guard lock(mutex_);
  write_locked();
}

void SettingsCursorStore::write_locked() {
  if (!pending_) return;
  const auto settings = file_name_.isEmpty() ? std::make_unique<QSettings>(organization_, application_)
                                             : std::make_unique<QSettings>(file_name_, format_);
  // A string, so every format (INI, registry, plist) keeps all 64 bits.
  settings->setValue(key_, QString::number(qulonglong{*pending_}));
  settings->sync();
  if (settings->status() != QSettings::NoError) {
    throw std::runtime_error("cannot write the cursor to " + settings->fileName().toStdString() + ": " +
                             status_text(settings->status()));
  }
  pending_.reset();
}

}  // namespace herald::qt
