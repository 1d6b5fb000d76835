// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

/// @title toyapp's deletion registry
/// @notice A public, append-only record of the deletion attestations that
/// toyapp's enclave signs when it purges a user's data.  Each record is an
/// event anyone can read (eth_getLogs, a block explorer); the contract
/// keeps, per receipt, only the block that recorded it, so that a receipt
/// is recorded at most once however often it is sent.
/// @dev Only the enclave address that the owner (the operator) registered
/// may post.  The enclave's address is the one its attestation binds
/// (docs/auditing.md), so a record's sender ties it to attested code.
/// No immutable variables: the deployed code is exactly the compiled
/// runtime code, which lets a verifier compare it byte for byte.
contract DeletionRegistry {
    /// One deletion attestation, as toyapp signs it.  The Ed25519 signature
    /// is over the canonical JSON of the attestation (spec/records/log.spec,
    /// record deletion_attestation), which a verifier rebuilds from these
    /// fields; receiptIdHash is SHA-256 of the receipt id's UTF-8 bytes.
    struct Attestation {
        bytes32 receiptIdHash;
        bytes32 userIdHash;
        uint64 deletedAt;      // deletionTimestamp, milliseconds since 1970-01-01T00:00:00Z
        bytes32 composeHash;
        bytes32 publicKey;     // Ed25519 public key
        bytes32[2] signature;  // Ed25519 signature, R then S
    }

    address public owner;
    address public enclave;
    /// The block that recorded a receipt's attestation, 0 if none did.
    mapping(bytes32 => uint256) public recordedIn;

    event DeletionRecorded(
        bytes32 indexed receiptIdHash,
        bytes32 userIdHash,
        uint64 deletedAt,
        bytes32 composeHash,
        bytes32 publicKey,
        bytes32[2] signature
    );
    event EnclaveChanged(address indexed previousEnclave, address indexed newEnclave);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    error NotOwner(address sender);
    error NotEnclave(address sender);

    constructor() {
        owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
    }

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    /// Registers the enclave address allowed to post (address(0): none).
    function setEnclave(address newEnclave) external onlyOwner {
        emit EnclaveChanged(enclave, newEnclave);
        enclave = newEnclave;
    }

    function transferOwnership(address newOwner) external onlyOwner {
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    /// Records each attestation whose receipt has no record yet and skips
    /// the others, so that a batch resent after a crash records only what
    /// is missing.  Returns how many it recorded.
    function record(Attestation[] calldata attestations) external returns (uint256 recorded) {
        if (msg.sender != enclave) revert NotEnclave(msg.sender);
        for (uint256 i = 0; i < attestations.length; ++i) {
            Attestation calldata a = attestations[i];
            if (recordedIn[a.receiptIdHash] != 0) continue;
            recordedIn[a.receiptIdHash] = block.number;
            emit DeletionRecorded(a.receiptIdHash, a.userIdHash, a.deletedAt, a.composeHash, a.publicKey, a.signature);
            ++recorded;
        }
    }
}
