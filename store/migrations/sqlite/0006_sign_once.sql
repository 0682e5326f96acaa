-- Sign once: a request has at most one live command. A command is live
-- unless it failed before it was signed: such an intent never produced a
-- frame that could leave (sending follows the recorded signature), so
-- recovery may abandon it and sign the request again with a new counter.
-- Every other command, failed after signing included, may have reached the
-- device, and a second one for the same request would be a second change
-- of supplier. The party's own commands (no request) are not constrained.

-- +goose Up
-- Recovery only ever carries on a request's newest command: an unsigned
-- intent with a newer command beside it is already abandoned in all but
-- name. Say so, so that the index below can be built.
UPDATE commands SET state = 'failed',
        outcome = 'abandoned unsigned: a later command serves its request (migration 0006)'
    WHERE state = 'intent' AND req_counter IS NOT NULL AND EXISTS (
        SELECT 1 FROM commands later
        WHERE later.req_originator_eui = commands.req_originator_eui
          AND later.req_target_eui = commands.req_target_eui
          AND later.req_counter = commands.req_counter
          AND later.command_id > commands.command_id);
-- A database where one request already has two signed commands stops the
-- migration here: that is a double signing to investigate, not to hide.
CREATE UNIQUE INDEX commands_live_request ON commands (req_originator_eui, req_target_eui, req_counter)
    WHERE req_counter IS NOT NULL AND (state <> 'failed' OR signed_at_us IS NOT NULL);

-- +goose Down
DROP INDEX commands_live_request;
