// Attachments as the store keeps them. The raw message, stored once in email.raw, is the record:
// an attachment row says where its part lies in it (offset, length, transfer encoding) and the
// decoded bytes are produced on demand, checked against the SHA-256 taken at ingest. A part that
// does not lie in the raw message byte for byte (a forwarded message the parser re-serialised)
// keeps its decoded bytes in attachment_blob; a blocked type keeps metadata only.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.hpp"

namespace casemail::store {

// A decoded attachment, as the inbound pipeline hands it over (nothing is copied).
struct AttachmentRecord {
    std::string filename, content_type;
    std::size_t size = 0;
    std::string sha256;
    bool blocked = false;  // metadata only (matching::attachment_blocked)
    // Where the encoded part lies in the email's raw message; when absent, `data` holds the
    // decoded bytes to keep.
    std::optional<std::size_t> raw_offset;
    std::size_t raw_length = 0;
    std::string transfer_encoding;
    std::string_view data;
};

// Writes the email's attachment rows, inside the caller's transaction.
void store_attachments(Database& db, Id email_id, const std::vector<AttachmentRecord>& attachments);

enum class AttachmentContent {
    reference,  // decoded on demand from the raw message
    blob,       // decoded bytes kept in attachment_blob
    blocked,    // a blocked type: metadata only
};

struct StoredAttachment {
    int index = 0;  // 1-based, in the order of the message
    std::string filename, content_type;
    std::size_t size = 0;
    std::string sha256;
    AttachmentContent content = AttachmentContent::reference;
};

// The attachments of an email, in the order of the message.
std::vector<StoredAttachment> email_attachments(Store& store, Id email_id);

// Attachment `index` (1-based) of an email, decoded. Refused, naming the reason, for no such
// attachment, a blocked type, or bytes that no longer match the SHA-256 taken at ingest.
std::string read_attachment(Store& store, Id email_id, int index);

// Migration 7's conversion of a store that kept every attachment's decoded bytes: each one is
// decoded again from its raw message and, when that reproduces its SHA-256, becomes a reference;
// a blob no attachment needs any more is dropped. A mismatch keeps the blob and is recorded as an
// 'attachment-blob-kept' event on the email's case. Runs inside the migration's transaction.
struct BlobConversion {
    std::size_t referenced = 0;     // attachments now decoded from their raw message
    std::size_t kept = 0;           // attachments whose blob stays (mismatch or not located)
    std::size_t blobs_dropped = 0;
    std::size_t bytes_dropped = 0;
    std::string summary() const;
};
BlobConversion convert_attachment_blobs(Database& db);

}  // namespace casemail::store
