// The typed errors hddnn throws. They live at the bottom of the dependency chain
// (mapping/ <- cpp/hddnn <- bindings) so every layer can throw them; the binding
// layer registers each as a Python class in hddnn.errors with the same name.
//
// Contract: messages name what was wrong (file, field, id) and what was expected.
// Never throw across threads: store the exception and rethrow where it is awaited.
#pragma once

#include <stdexcept>
#include <string>

namespace hddnn {

/// Base of every error hddnn raises on purpose.
class HddnnError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A configuration, spec, topology or problem file is invalid (Python: also ValueError).
class ConfigError : public HddnnError {
 public:
  using HddnnError::HddnnError;
};

/// A dataset file is missing, malformed or inconsistent.
class DataError : public HddnnError {
 public:
  using HddnnError::HddnnError;
};

/// A transport operation failed.
class CommError : public HddnnError {
 public:
  using HddnnError::HddnnError;
};

/// A peer rank stopped answering (dead process, missed heartbeats).
class PeerLostError : public CommError {
 public:
  using CommError::CommError;
};

/// Key handling or message authentication failed.
class CryptoError : public HddnnError {
 public:
  using HddnnError::HddnnError;
};

}  // namespace hddnn
