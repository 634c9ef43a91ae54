"""Discord: signature verification, REST client, command definitions, interaction handling."""
