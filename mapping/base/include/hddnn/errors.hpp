// The typed errors hddnn throws: the header-only target hddnn_errors, the bottom of the
// dependency chain (errors <- mapping/ <- cpp/hddnn <- bindings), so every layer can
// throw them without linking another; the binding layer registers each as a Python
// class in hddnn.errors with the same name.
//
// Contract: messages name what was wrong (file, field, id) and what was expected.
// Never throw across threads: store the exception and rethrow where it is awaited.
// kind() is the class's name, also its Python class's: a rank's error file carries it
// across the process boundary, so Python raises the same class.
#pragma once

#include <stdexcept>
#include <string>

namespace hddnn {

/// Base of every error hddnn raises on purpose.
class HddnnError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  virtual const char* kind() const noexcept { return "HddnnError"; }
};

#define HDDNN_ERROR_CLASS(Name, Base)                            \
  class Name : public Base {                                     \
   public:                                                       \
    using Base::Base;                                            \
    const char* kind() const noexcept override { return #Name; } \
  }

/// A configuration, spec, topology or problem file is invalid (Python: also ValueError).
HDDNN_ERROR_CLASS(ConfigError, HddnnError);

/// A dataset file is missing, malformed or inconsistent.
HDDNN_ERROR_CLASS(DataError, HddnnError);

/// A transport operation failed.
HDDNN_ERROR_CLASS(CommError, HddnnError);

/// A peer rank stopped answering (dead process, missed heartbeats).
HDDNN_ERROR_CLASS(PeerLostError, CommError);

/// Key handling or message authentication failed.
HDDNN_ERROR_CLASS(CryptoError, HddnnError);

/// A run ended without serving: no request was offered, or every end device was lost.
HDDNN_ERROR_CLASS(RunFailedError, HddnnError);

#undef HDDNN_ERROR_CLASS

}  // namespace hddnn
