"""A small network ACL evaluator over a synthesized stack: does a TCP flow get through, both ways?

"Control subnet traffic with network ACLs" (Amazon VPC User Guide,
https://docs.aws.amazon.com/vpc/latest/userguide/vpc-network-acls.html):
- "Network ACLs are stateless, which means that responses to allowed inbound traffic are subject to the
  rules for outbound traffic (and vice versa)";
- rules are evaluated "starting with the lowest numbered rule"; the first that matches decides, and a
  packet that matches none is denied (the final ``*`` rule);
- a network ACL filters traffic entering and leaving its subnet: traffic between two instances of one
  subnet passes no ACL, traffic between subnets passes the source subnet's outbound rules and the
  destination subnet's inbound rules.

A flow from ``source`` to ``destination:port`` (from a client port) is allowed when the request passes
the source subnet's egress and the destination subnet's ingress, and the reply (destination:port back to
the client port) passes the destination subnet's egress and the source subnet's ingress. An address
outside the VPC (the internet, an AWS service's public address) has no ACL of its own.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from tests.tf_json import SynthesizedStack, references

Address = ipaddress.IPv4Address


@dataclass(frozen=True)
class Rule:
    number: int
    egress: bool
    protocol: str
    action: str
    cidr: ipaddress.IPv4Network
    ports: tuple[int, int]

    def matches(self, peer: Address, port: int) -> bool:
        if self.protocol not in ("tcp", "6", "-1", "all"):
            return False
        in_range = self.protocol in ("-1", "all") or self.ports[0] <= port <= self.ports[1]
        return peer in self.cidr and in_range


@dataclass(frozen=True)
class Acl:
    name: str
    rules: tuple[Rule, ...]

    def allows(self, egress: bool, peer: Address, port: int) -> bool:
        """The first matching rule of the direction, lowest number first; none matching: denied."""
        for rule in sorted((r for r in self.rules if r.egress == egress), key=lambda r: r.number):
            if rule.matches(peer, port):
                return rule.action == "allow"
        return False


class Network:
    """The subnets and network ACLs of a synthesized stage stack."""

    def __init__(self, stack: SynthesizedStack) -> None:
        self.stack = stack
        self.subnets = {
            name: ipaddress.IPv4Network(subnet["cidr_block"]) for name, subnet in stack.resources("aws_subnet").items()
        }
        self.tiers = {name: subnet["tags"]["tier"] for name, subnet in stack.resources("aws_subnet").items()}
        rules: dict[str, list[Rule]] = {}
        for rule in stack.resources("aws_network_acl_rule").values():
            ((_, acl),) = references(rule["network_acl_id"])
            rules.setdefault(acl, []).append(
                Rule(
                    int(rule["rule_number"]),
                    bool(rule.get("egress", False)),
                    str(rule["protocol"]),
                    rule["rule_action"],
                    ipaddress.IPv4Network(rule["cidr_block"]),
                    (int(rule.get("from_port", 0)), int(rule.get("to_port", 0))),
                )
            )
        default = Acl("default", ())  # managed with no rules: only the final deny
        for acl in stack.resources("aws_default_network_acl").values():
            assert not acl.get("ingress") and not acl.get("egress"), "the default ACL has rules"
        self.acl_of: dict[str, Acl] = dict.fromkeys(self.subnets, default)
        for name, acl in stack.resources("aws_network_acl").items():
            assert "ingress" not in acl and "egress" not in acl, "inline rules beside aws_network_acl_rule"
            for _, subnet in references(acl["subnet_ids"]):
                self.acl_of[subnet] = Acl(name, tuple(rules.get(name, ())))
        self.vpc = ipaddress.IPv4Network(stack.only("aws_vpc")["cidr_block"])

    def subnet_of(self, address: Address) -> str | None:
        return next((name for name, cidr in self.subnets.items() if address in cidr), None)

    def host(self, tier: str, index: int = 0, offset: int = 10) -> Address:
        """An address in the ``index``-th subnet (by AZ order) of a tier."""
        names = sorted((n for n, t in self.tiers.items() if t == tier), key=lambda n: int(self.subnets[n][0]))
        return self.subnets[names[index]][offset]

    def tier_size(self, tier: str) -> int:
        return sum(1 for t in self.tiers.values() if t == tier)

    def _passes(self, source: Address, destination: Address, port: int) -> bool:
        """One packet to ``port``: out of the source's subnet, into the destination's."""
        src, dst = self.subnet_of(source), self.subnet_of(destination)
        if src is not None and src == dst:
            return True  # inside one subnet: no ACL on the way
        if src is not None and not self.acl_of[src].allows(True, destination, port):
            return False
        return dst is None or self.acl_of[dst].allows(False, source, port)

    def flow(self, source: Address, destination: Address, port: int, client_port: int = 49152) -> bool:
        """A TCP connection from ``source:client_port`` to ``destination:port``, and its replies."""
        return self._passes(source, destination, port) and self._passes(destination, source, client_port)

    def why(self, source: Address, destination: Address, port: int, client_port: int = 49152) -> str:
        return (
            f"{source}:{client_port} -> {destination}:{port}: request "
            f"{'passes' if self._passes(source, destination, port) else 'denied'}, reply "
            f"{'passes' if self._passes(destination, source, client_port) else 'denied'}"
        )
