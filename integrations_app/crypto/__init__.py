"""Secrets as the gateway reads them: Laravel's Encrypter format, keys, fingerprints."""
