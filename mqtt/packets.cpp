#include "mote/mqtt/packets.hpp"

#include "mote/mqtt/wire.hpp"

namespace mote::mqtt {

namespace {

// Unpacks a Subscription Options byte whose reserved bits the decoder checked.
SubscribeOptions options_from_byte(std::uint8_t byte) {
  SubscribeOptions options;
  options.max_qos = static_cast<QoS>(byte & 0x03u);
  options.no_local = (byte & 0x04u) != 0;
  options.retain_as_published = (byte & 0x08u) != 0;
  options.retain_handling = static_cast<RetainHandling>((byte >> 4) & 0x03u);
  return options;
}

}  // namespace

SubscriptionList::Iterator::Iterator(const SubscriptionList* list, std::size_t index)
    : list_(list), index_(index) {
  load();
}

void SubscriptionList::Iterator::load() {
  if (!list_->is_wire_) {
    if (index_ < list_->items_.size()) current_ = list_->items_[index_];
    return;
  }
  if (index_ >= list_->payload_.size()) {
    index_ = list_->payload_.size();
    return;
  }
  FieldReader reader(list_->payload_.subspan(index_));
  current_ = Subscription{};
  std::uint8_t options = 0;
  if (reader.string(current_.filter).has_value() ||
      (list_->with_options_ && reader.u8(options).has_value())) {
    index_ = list_->payload_.size();  // unreachable for checked bytes
    return;
  }
  current_.options = options_from_byte(options);
  position_ = list_->payload_.size() - reader.remaining();
}

SubscriptionList::Iterator& SubscriptionList::Iterator::operator++() {
  index_ = list_->is_wire_ ? position_ : index_ + 1;
  load();
  return *this;
}

SubscriptionList::Iterator SubscriptionList::end() const {
  return {this, is_wire_ ? payload_.size() : items_.size()};
}

std::size_t SubscriptionList::size() const {
  if (!is_wire_) return items_.size();
  std::size_t count = 0;
  for (auto it = begin(); it != end(); ++it) ++count;
  return count;
}

bool operator==(const SubscriptionList& a, const SubscriptionList& b) {
  auto x = a.begin();
  auto y = b.begin();
  for (; x != a.end() && y != b.end(); ++x, ++y) {
    if (*x != *y) return false;
  }
  return x == a.end() && y == b.end();
}

bool operator==(const Unsubscribe& a, const Unsubscribe& b) {
  if (a.packet_id != b.packet_id || !(a.properties == b.properties)) return false;
  auto x = a.subscriptions.begin();
  auto y = b.subscriptions.begin();
  for (; x != a.subscriptions.end() && y != b.subscriptions.end(); ++x, ++y) {
    if (x->filter != y->filter) return false;
  }
  return x == a.subscriptions.end() && y == b.subscriptions.end();
}

}  // namespace mote::mqtt
