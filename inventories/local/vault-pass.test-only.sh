#!/bin/sh
# TEST ONLY. This password opens inventories/local/group_vars/local/vault.yml,
# the secrets of the throwaway demo and test hosts, which protect nothing.
# It is committed on purpose so `make demo` and `make test` run unattended.
# Never use it (or this pattern) for a real environment: there, keep the
# password out of the repository (--vault-id prod@prompt or a password manager).
echo 'flasky-local-test-only-not-a-secret'
