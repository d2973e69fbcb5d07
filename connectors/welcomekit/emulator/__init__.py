"""Welcome Kit emulator (needs the ``emulators`` extra)."""

from connectors.welcomekit.emulator.app import WelcomeKitEmulator

__all__ = ["WelcomeKitEmulator"]
