"""nftower."""
