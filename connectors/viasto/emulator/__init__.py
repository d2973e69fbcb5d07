"""viasto Interview Suite emulator (needs the ``emulators`` extra)."""

from connectors.viasto.emulator.app import ViastoEmulator

__all__ = ["ViastoEmulator"]
