// Package schema holds the value types of syndicate's configuration that
// every part of it shares: secrets that never print, durations written as
// "30s", and the "did you mean" of an unknown key. It imports nothing of
// the project, so that the packages which own a part of the configuration
// (the channels) can depend on it without depending on package config.
package schema
