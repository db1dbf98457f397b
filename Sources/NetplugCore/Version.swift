/// This release of netplug: `netplug-host --version` prints it.
package enum NetplugVersion {
    package static let current = "0.21.0"
}
