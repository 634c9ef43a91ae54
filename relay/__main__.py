"""`python -m relay`: run the gateway relay (configuration from the environment, see relay/README.md)."""

from relay.bot import main

raise SystemExit(main())
