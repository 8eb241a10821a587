-- stop keywords that no launch sent to in the attribution window: visible, uncounted
select event_id, received_at, from_phone_raw, from_phone_e164, text, launch_id
from {{ ref('int_keyword_optouts') }}
where launch_id is null
