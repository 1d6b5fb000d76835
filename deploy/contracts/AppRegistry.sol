// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

/// @title toyapp's app registry
/// @notice The compose hashes (releases) the operator allows to run, each
/// with its version, modelled on dstack's DstackApp contract
/// (allowedComposeHashes, addComposeHash, removeComposeHash and their
/// events).  A key provider that behaves as dstack's KMS does gives keys
/// only to a compose hash this contract allows; the events are the public
/// history of version transitions.
/// @dev Unlike DstackApp, each hash carries a version string, adding an
/// allowed hash or removing one that is not allowed is refused (so the
/// history has no no-op entries), and there are no device ids, TCB policy
/// or upgradeable proxy.
contract AppRegistry {
    address public owner;
    mapping(bytes32 => bool) public allowedComposeHashes;
    /// The version registered with a compose hash ("" if it never was).
    mapping(bytes32 => string) public composeVersion;

    event ComposeHashAdded(bytes32 indexed composeHash, string version);
    event ComposeHashRemoved(bytes32 indexed composeHash, string version);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    error NotOwner(address sender);
    error AlreadyAllowed(bytes32 composeHash);
    error NotAllowed(bytes32 composeHash);
    error BadVersion();

    constructor() {
        owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
    }

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    /// Allows composeHash, the release of the given version (1..64 bytes).
    function addComposeHash(bytes32 composeHash, string calldata version) external onlyOwner {
        if (allowedComposeHashes[composeHash]) revert AlreadyAllowed(composeHash);
        if (bytes(version).length == 0 || bytes(version).length > 64) revert BadVersion();
        allowedComposeHashes[composeHash] = true;
        composeVersion[composeHash] = version;
        emit ComposeHashAdded(composeHash, version);
    }

    function removeComposeHash(bytes32 composeHash) external onlyOwner {
        if (!allowedComposeHashes[composeHash]) revert NotAllowed(composeHash);
        allowedComposeHashes[composeHash] = false;
        emit ComposeHashRemoved(composeHash, composeVersion[composeHash]);
    }

    function transferOwnership(address newOwner) external onlyOwner {
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    /// Whether a CVM running composeHash may be given keys, as DstackApp's
    /// isAppAllowed answers (its boot info reduced to the compose hash).
    function isAppAllowed(bytes32 composeHash) external view returns (bool isAllowed, string memory reason) {
        if (!allowedComposeHashes[composeHash]) return (false, "Compose hash not allowed");
        return (true, "");
    }
}
