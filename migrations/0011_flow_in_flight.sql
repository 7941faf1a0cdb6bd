-- Attempts of a flow in flight: the claim spends one of attempts_left and counts it here until the
-- answer is judged (a success or an uncounted answer gives it back; a wrong one keeps it spent).
-- While the whole budget is in flight the flow is not failed (src/engine/flow.ts derivedState), and a
-- further claim is throttled, not told the flow failed. A count older than 30 s is stale (a process
-- that died mid-check) and ignored.
ALTER TABLE flows ADD COLUMN in_flight integer NOT NULL DEFAULT 0;
ALTER TABLE flows ADD COLUMN in_flight_at timestamptz;
