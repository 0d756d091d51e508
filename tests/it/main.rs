//! The integration tests that start the real app in-process and speak HTTP to it, as one
//! test binary (one build and link instead of one per file).

mod access_support;
mod care_support;
mod common;
mod mqtt_support;
mod music_support;
mod open_support;
mod push_support;
mod transit_support;

mod access_matrix;
mod account_rules;
mod alerts_mqtt;
mod alerts_offline;
mod backup;
mod bodies;
mod care_accounts;
mod care_admin;
mod care_notices;
mod conformance;
mod connections;
mod crash;
mod documents;
mod envelopes;
mod foundation;
mod fuzzing;
mod hardening;
mod lifecycle;
mod music_playlists;
mod music_scan;
mod music_songs;
mod music_users;
mod open;
mod open_reads;
mod ownership;
mod push;
mod races;
mod rate_limits;
mod subsonic;
mod subsonic_library;
mod system;
mod transit;
mod transit_analytics;
mod transit_import;
mod uploads;
