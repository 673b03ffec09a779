//! Reader of AERMET surface (.SFC) and profile (.PFL) files.
