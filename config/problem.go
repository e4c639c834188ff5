package config

import "github.com/syndicate-daemon/syndicate/schema"

// Problem is one reason a configuration is refused, tied to the key it is about.
type Problem = schema.Problem

// Problems lists every problem found in a configuration, in file order.
type Problems = schema.Problems
