"""Flatchr emulator (needs the ``emulators`` extra)."""

from connectors.flatchr.emulator.app import FlatchrEmulator

__all__ = ["FlatchrEmulator"]
