#include "herald/qt/settings_cursor_store.hpp"

#include <QCoreApplication>
#include <QStringList>
#include <memory>
#include <stdexcept>

namespace herald::qt {
namespace {

std::string status_text(QSettings::Status s) {
  switch (s) {
    case QSettings::NoError: return "no error";
    case QSettings::AccessError: return "access error";
    case QSettings::FormatError: return "format error";
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

std::optional<herald::Cursor> SettingsCursorStore::load() {
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
  // "<id>" (written before epochs existed) or "<id> <epoch>".
  const QStringList parts = v.toString().split(QLatin1Char(' '));
  bool ok = parts.size() <= 2;
  const qulonglong id = ok ? parts.front().toULongLong(&ok) : 0;
  herald::Cursor cursor{std::uint64_t{id}, parts.size() == 2 ? parts.back().toStdString() : std::string()};
  if (!ok || (parts.size() == 2 && !herald::is_valid_epoch(cursor.epoch))) {
    throw std::runtime_error("the cursor at '" + key_.toStdString() + "' in " + settings->fileName().toStdString() +
                             " is not an unsigned integer, optionally followed by an epoch");
  }
  return cursor;
}

void SettingsCursorStore::save(const herald::Cursor& cursor) {
  std::lock_guard lock(mutex_);
  pending_ = cursor;
}

void SettingsCursorStore::flush() {
  std::lock_guard lock(mutex_);
  write_locked();
}

void SettingsCursorStore::write_locked() {
  if (!pending_) return;
  const auto settings = file_name_.isEmpty() ? std::make_unique<QSettings>(organization_, application_)
                                             : std::make_unique<QSettings>(file_name_, format_);
  // One string value, so every format (INI, registry, plist) keeps all 64 bits and the
  // id and its epoch are written together.
  QString value = QString::number(qulonglong{pending_->id});
  if (!pending_->epoch.empty()) value += QLatin1Char(' ') + QString::fromStdString(pending_->epoch);
  settings->setValue(key_, value);
  settings->sync();
  if (settings->status() != QSettings::NoError) {
    throw std::runtime_error("cannot write the cursor to " + settings->fileName().toStdString() + ": " +
                             status_text(settings->status()));
  }
  pending_.reset();
}

}  // namespace herald::qt
