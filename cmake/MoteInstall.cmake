# Installable package: filled in by the build-infrastructure work.
